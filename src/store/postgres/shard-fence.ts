import type { Pool, PoolClient } from 'pg';
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
 * same row, which waits for the shared locks of commits in flight and makes every later check
 * fail: once another node has taken a shard, this node can never write to it again.
 *
 * On this step one node takes every shard when it opens the store (bumping each epoch, which
 * fences any earlier holder) and holds them without a lease (`lease_until` is infinity); leases,
 * renewal and hand-over come with the cluster (docs/cluster.md).
 */
export class ShardFence {
  private readonly epochs = new Map<number, number>();

  constructor(readonly nodeId: string) {}

  /** Takes every shard for this node, fencing whoever held them. */
  async takeAll(pool: Pool): Promise<void> {
    const { rows } = await pool.query<{ shard: number; epoch: string }>(
      "UPDATE shards SET owner = $1, epoch = epoch + 1, lease_until = 'infinity' RETURNING shard, epoch",
      [this.nodeId],
    );
    this.epochs.clear();
    for (const row of rows) this.epochs.set(row.shard, Number(row.epoch));
  }

  /** Gives up every shard this node still holds at its epoch (a clean close: the next owner need not wait). */
  async releaseAll(pool: Pool): Promise<void> {
    const shards = [...this.epochs.keys()];
    const epochs = shards.map((s) => this.epochs.get(s)!);
    this.epochs.clear();
    await pool.query(
      `UPDATE shards s SET owner = NULL, lease_until = NULL
         FROM unnest($1::integer[], $2::bigint[]) AS f(shard, epoch)
        WHERE s.shard = f.shard AND s.epoch = f.epoch AND s.owner = $3`,
      [shards, epochs, this.nodeId],
    );
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
    const lost = new Map<number, ShardOwnershipLostError>();
    const { rows } = await client.query<{ shard: number; owner: string | null; epoch: string }>(
      'SELECT shard, owner, epoch FROM shards WHERE shard = ANY($1::integer[]) ORDER BY shard FOR SHARE',
      [shards],
    );
    const found = new Map(rows.map((row) => [row.shard, row]));
    for (const shard of shards) {
      const held = this.epochs.get(shard);
      const row = found.get(shard);
      if (held !== undefined && row && row.owner === this.nodeId && Number(row.epoch) === held) continue;
      lost.set(shard, new ShardOwnershipLostError(shard, held ?? 0, row?.owner ?? undefined, row ? Number(row.epoch) : undefined));
      this.epochs.delete(shard);
    }
    return lost;
  }
}
