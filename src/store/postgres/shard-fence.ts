import type { PoolClient } from 'pg';
import { ShardOwnershipLostError } from '../../common/errors.ts';

/**
 * The shards this node holds, each at the epoch it took it with, and the fence every commit
 * passes through (after Temporal's `range_id`).
 *
 * ```
 * node A: take(shard 7) ─ epoch 4 ─ commit(check 7@4 ✓) … paused …      commit(check 7@4 ✗ → refused)
 * node B:                                  take(shard 7) ─ epoch 5 ─ commit(check 7@5 ✓)
 * ```
 *
 * Invariant: a commit writes a shard's rows only in a transaction that has read that shard's
 * row with `FOR SHARE` and found this node as its owner at its epoch. A take is an UPDATE of the
 * same row, which cannot run while a commit holds that lock (it skips the row until a later
 * heartbeat) and makes every later check fail: once another node has taken a shard, this node
 * can never write to it again.
 *
 * Which shards this node holds is decided by its leases (shard-leases.ts): they adopt the shards
 * they take and forget the ones they lose or give up. A shard a commit finds lost is forgotten
 * here and told through `onLost`, so the listeners of the shard ownership hear of it too.
 */
export class ShardFence {
  private readonly epochs = new Map<number, number>();
  /** Told of the shards a commit's check found lost (set by PostgresShards). */
  onLost: (shards: number[]) => void = () => {};

  constructor(readonly nodeId: string) {}

  /** Records shards this node has just taken, at their new epochs. */
  adopt(taken: ReadonlyMap<number, number>): void {
    for (const [shard, epoch] of taken) this.epochs.set(shard, epoch);
  }

  /** Forgets `shards` (all when omitted); answers those it still held, with their epochs. */
  forget(shards?: readonly number[]): Map<number, number> {
    const gone = new Map<number, number>();
    for (const shard of shards ?? [...this.epochs.keys()]) {
      const epoch = this.epochs.get(shard);
      if (epoch === undefined) continue;
      gone.set(shard, epoch);
      this.epochs.delete(shard);
    }
    return gone;
  }

  /** The shards this node holds, with their epochs. */
  held(): ReadonlyMap<number, number> {
    return new Map(this.epochs);
  }

  /** The epoch this node holds `shard` at, or undefined when it does not hold it. */
  epochOf(shard: number): number | undefined {
    return this.epochs.get(shard);
  }

  /**
   * Inside the caller's transaction: locks the rows of `shards` (shared, in shard order, so two
   * takes can never deadlock with it) and answers the error of each one this node no longer
   * holds at its epoch. A shard found lost is forgotten: this node never writes to it again.
   */
  async check(client: PoolClient, shards: readonly number[]): Promise<Map<number, ShardOwnershipLostError>> {
    const { rows } = await client.query<FenceRow>({ name: 'perdure.fence', text: FENCE_SELECT, values: [shards] });
    return this.judge(shards, rows);
  }

  /**
   * The epoch this node holds each of `shards` at, in order (null where it holds none): the
   * values a statement that checks the fence itself (the group commit's) compares the locked
   * rows with.
   */
  epochsOf(shards: readonly number[]): (number | null)[] {
    return shards.map((shard) => this.epochs.get(shard) ?? null);
  }

  /**
   * What the rows of `shards` locked by FENCE_SELECT say: the error of each shard this node no
   * longer holds at its epoch. Those are forgotten, and told through `onLost`.
   */
  judge(shards: readonly number[], rows: readonly FenceRow[]): Map<number, ShardOwnershipLostError> {
    const lost = new Map<number, ShardOwnershipLostError>();
    const found = new Map(rows.map((row) => [Number(row.shard), row]));
    const forgotten: number[] = [];
    for (const shard of shards) {
      const held = this.epochs.get(shard);
      const row = found.get(shard);
      if (held !== undefined && row && row.owner === this.nodeId && Number(row.epoch) === held) continue;
      lost.set(shard, new ShardOwnershipLostError(shard, held ?? 0, row?.owner ?? undefined, row ? Number(row.epoch) : undefined));
      if (held !== undefined) forgotten.push(shard);
      this.epochs.delete(shard);
    }
    if (forgotten.length > 0) this.onLost(forgotten);
    return lost;
  }
}

/** A shards row as the fence reads it (epoch is a bigint: text). */
export interface FenceRow {
  shard: number;
  owner: string | null;
  epoch: string;
}

/** The fence's lock: the rows of shards `$1`, shared, in shard order. */
export const FENCE_SELECT = 'SELECT shard, owner, epoch FROM shards WHERE shard = ANY($1::integer[]) ORDER BY shard FOR SHARE';
