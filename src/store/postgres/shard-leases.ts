import type { Pool, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { LeaseObserver } from '../lease-events.ts';
import type { ShardChange } from '../shard-ownership.ts';
import type { ShardFence } from './shard-fence.ts';

/** How the leases of a node are kept: its lease, how often it renews, and its hand-over hook. */
export interface LeaseOptions {
  nodeId: string;
  shardCount: number;
  /** How long a take or a renewal holds a shard, in ms of database time. */
  leaseMs: number;
  /** How often the node renews its heartbeat and leases, and rebalances, in ms. */
  renewMs: number;
  address: string | undefined;
  /** Awaited, at most `leaseMs / 3`, before shards are given up to even out the cluster. */
  beforeRelease?: (shards: number[]) => Promise<void>;
}

/**
 * The rows of the shards this node holds (the parameters: node id, shards, their epochs), locked
 * in shard order before they are updated. A commit's fence check locks its shards `FOR SHARE` in
 * shard order too; an UPDATE joined to `unnest` locks in whatever order its plan reads them, and
 * the two deadlocked (seen by the cluster bench: PostgreSQL aborted the commit's transaction).
 */
function mineInShardOrder(node: string, shards: string, epochs: string): string {
  return `SELECT sh.shard FROM shards sh JOIN unnest(${shards}::integer[], ${epochs}::bigint[]) AS f(shard, epoch)
    ON sh.shard = f.shard AND sh.epoch = f.epoch WHERE sh.owner = ${node} ORDER BY sh.shard FOR NO KEY UPDATE OF sh`;
}

/**
 * A node's membership and shard leases, kept on a heartbeat in PostgreSQL (after Temporal's
 * shard controller, with the `nodes` table as membership). Every `renewMs` the node:
 *
 * ```
 * 1. upsert its nodes row (heartbeat_at = now()) + renew lease_until of the shards it holds,
 *    where owner = me AND epoch = the epoch it holds (one statement); a shard not renewed is lost
 * 2. count the live nodes (heartbeat within the lease) and what each holds, and the free shards
 * 3. below its fair share ⌈S / live⌉: take free shards (no owner, or lease past) by bumping their
 *    epoch, SKIP LOCKED so two nodes never wait on each other and a shard mid-commit waits a beat
 *    above it while others are below: give the excess up (owner NULL), after `beforeRelease`
 * ```
 *
 * Every time is the database's (`now()`), never this node's clock, except one: a node that
 * cannot renew (database unreachable) cannot know what the database did, so once `leaseMs` has
 * passed on its own monotonic clock since it sent the last renewal that succeeded, the lease is
 * surely over (its end was set after that send) and it reports every shard lost. Safety does not
 * rest on that timer: the fence refuses a commit to a shard another node has taken.
 *
 * Hand-over choice: a shard given up to even out the cluster stays held, and renewed, while
 * `beforeRelease(shards)` runs (the engine drains those shards' executions), then it is
 * forgotten, released, and the listeners are told it was lost. Without the hook the shards are
 * simply released and told lost. A clean close releases every shard (no hook: the engine has
 * stopped by then) and deletes the node's row, so the next owner takes over at once.
 *
 * @example
 * const leases = new ShardLeases(pool, fence, { nodeId, shardCount: 64, leaseMs: 10_000, renewMs: 3_333, address: undefined }, tell)
 * await leases.start() // registered, and holding its share
 * await leases.stop()  // every shard released, the node's row deleted
 */
export class ShardLeases {
  private timer: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private running = false;
  /** Bumped by resume(): a beat of an earlier run of the loop, finishing late, schedules nothing. */
  private generation = 0;
  /** When (local monotonic ms) the last renewal that succeeded was sent. */
  private lastSent: number | undefined;
  /** Set by pause(): no heartbeat and no lease timer, as in a stopped process. */
  private frozen = false;
  /** The last heartbeat's failure, while the heartbeat fails (for messages and tests). */
  lastError: Error | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly fence: ShardFence,
    private options: LeaseOptions,
    private readonly changed: (change: ShardChange) => void,
    /** Told what the leases did, for metrics (lease-events.ts); it must not throw. */
    private readonly told: LeaseObserver = () => {},
  ) {}

  get address(): string | undefined {
    return this.options.address;
  }

  /** Registers the node (started now), then runs the first heartbeat: a lone node holds every shard when this resolves. */
  async start(): Promise<void> {
    await this.query(
      `INSERT INTO nodes (node_id, address) VALUES ($1, $2)
       ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, started_at = now(), heartbeat_at = now()`,
      [this.options.nodeId, this.options.address ?? null],
    );
    await this.beat();
    if (this.lastError) {
      this.pause(); // the open fails: no lease timer may outlive it
      throw this.lastError;
    }
    this.resume();
  }

  /** Where the node is reached, written at once (and on every heartbeat). */
  /** The engine's drain, run before shards are given up (see LeaseOptions.beforeRelease). */
  handOverWith(drain: (shards: number[]) => Promise<void>): void {
    this.options = { ...this.options, beforeRelease: drain };
  }

  async setAddress(address: string | undefined): Promise<void> {
    this.options.address = address;
    await this.query('UPDATE nodes SET address = $2 WHERE node_id = $1', [this.options.nodeId, address ?? null]);
  }

  /**
   * Stops the heartbeat and the local lease timer, as if the process were stopped (SIGSTOP):
   * for fault tests. The shards stay in `held()` until a commit or a later heartbeat finds them lost.
   */
  pause(): void {
    this.running = false;
    this.frozen = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiry);
  }

  /** Starts the heartbeat again after `pause()` (and after `start()`). */
  resume(): void {
    if (this.running) return;
    this.running = true;
    this.frozen = false;
    // Woken after a pause: the lease may be over already, whatever the next heartbeat finds.
    if (this.lastSent !== undefined) this.armExpiry(this.lastSent);
    this.schedule(++this.generation);
  }

  /** Stops the heartbeat, gives every shard up and leaves the cluster (a clean close). */
  async stop(): Promise<void> {
    this.pause();
    await this.beating;
    const gone = this.fence.forget();
    try {
      await this.release(gone);
      await this.query('DELETE FROM nodes WHERE node_id = $1', [this.options.nodeId]);
    } finally {
      if (gone.size > 0) this.told({ kind: 'released', shards: gone.size });
      this.changed({ gained: [], lost: [...gone.keys()] }); // unreachable database: the next owner waits out the lease
    }
  }

  /**
   * A heartbeat statement. It gives up after one lease (pg's client-side read timeout; the pool
   * then drops that connection), so a beat hung on a dead connection does not wait for the
   * statement timeout or TCP: the next beat tries a fresh connection.
   */
  private query<R extends QueryResultRow = QueryResultRow>(text: string, values: unknown[]): Promise<QueryResult<R>> {
    return this.pool.query<R>({ text, values, query_timeout: this.options.leaseMs } as QueryConfig);
  }

  private schedule(generation: number): void {
    if (!this.running || generation !== this.generation) return;
    this.timer = setTimeout(() => {
      // A beat still in flight (a slow database) is not doubled; the lease timer still runs.
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
      void this.beating.then(() => this.schedule(generation));
    }, this.options.renewMs);
    this.timer.unref?.();
  }

  /** One heartbeat; a failure is kept in `lastError` and tried again next time, never thrown. */
  private async beat(): Promise<void> {
    try {
      const sent = performance.now();
      await this.renew().catch((error: unknown) => {
        this.told({ kind: 'renewalFailed' });
        throw error;
      });
      this.lastSent = sent;
      this.armExpiry(sent);
      await this.rebalance();
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Renews the heartbeat and the leases of the shards held; those not renewed are lost. */
  private async renew(): Promise<void> {
    const held = [...this.fence.held()].sort(([a], [b]) => a - b);
    const { rows } = await this.query<{ shard: number }>(
      `WITH node AS (
         INSERT INTO nodes (node_id, address) VALUES ($1, $2)
         ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now(), address = excluded.address
       ), pruned AS (
         -- rows of nodes gone for a day (crashed, never closed): no one else removes them
         DELETE FROM nodes WHERE heartbeat_at < now() - interval '1 day' AND node_id <> $1
       )
       UPDATE shards s SET lease_until = now() + $3::integer * interval '1 millisecond'
         FROM (${mineInShardOrder('$1', '$4', '$5')}) AS mine
        WHERE s.shard = mine.shard
       RETURNING s.shard`,
      [this.options.nodeId, this.options.address ?? null, this.options.leaseMs, held.map(([s]) => s), held.map(([, e]) => e)],
    );
    const renewed = new Set(rows.map((r) => r.shard));
    const lost = this.fence.forget(held.filter(([s]) => !renewed.has(s)).map(([s]) => s));
    this.told({ kind: 'renewed', shards: renewed.size });
    if (lost.size > 0) this.told({ kind: 'lost', shards: lost.size, reason: 'renewal' });
    this.changed({ gained: [], lost: [...lost.keys()] });
  }

  /** Takes free shards up to the fair share, or gives the excess up to nodes below it. */
  private async rebalance(): Promise<void> {
    const { rows } = await this.query<{ node_id: string; held: number; free: number }>(
      `SELECT n.node_id, count(s.shard)::integer AS held,
              (SELECT count(*)::integer FROM shards WHERE owner IS NULL OR lease_until IS NULL OR lease_until <= now()) AS free
         FROM nodes n LEFT JOIN shards s ON s.owner = n.node_id AND s.lease_until > now()
        WHERE n.heartbeat_at > now() - $1::integer * interval '1 millisecond'
        GROUP BY n.node_id`,
      [this.options.leaseMs],
    );
    const live = Math.max(1, rows.filter((r) => r.node_id !== this.options.nodeId).length + 1);
    const fair = Math.ceil(this.options.shardCount / live);
    const mine = this.fence.held().size;
    if (mine < fair) return this.take(fair - mine);
    const free = rows[0]?.free ?? 0;
    const deficit = rows.filter((r) => r.node_id !== this.options.nodeId).reduce((sum, r) => sum + Math.max(0, fair - r.held), 0);
    const excess = Math.min(mine - fair, deficit - free);
    if (excess > 0) await this.handOver(excess);
  }

  /**
   * Takes up to `count` free shards. Free: no owner, a lease past, or owned by this node id but
   * not held (this node restarted under the same id, or reported them lost): the epoch bump
   * fences whoever wrote to them before.
   */
  private async take(count: number): Promise<void> {
    const { rows } = await this.query<{ shard: number; epoch: string }>(
      `UPDATE shards s SET owner = $1, epoch = s.epoch + 1, lease_until = now() + $2::integer * interval '1 millisecond'
        WHERE s.shard IN (
          SELECT shard FROM shards
           WHERE owner IS NULL OR lease_until IS NULL OR lease_until <= now() OR (owner = $1 AND NOT (shard = ANY($4::integer[])))
           ORDER BY shard LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING s.shard, s.epoch`,
      [this.options.nodeId, this.options.leaseMs, count, [...this.fence.held().keys()]],
    );
    if (rows.length === 0) return;
    this.fence.adopt(new Map(rows.map((r) => [r.shard, Number(r.epoch)])));
    this.told({ kind: 'taken', shards: rows.length });
    this.changed({ gained: rows.map((r) => r.shard).sort((a, b) => a - b), lost: [] });
  }

  /** Gives up `count` shards (the highest) so nodes below their fair share can take them. */
  private async handOver(count: number): Promise<void> {
    const shards = [...this.fence.held().keys()].sort((a, b) => b - a).slice(0, count);
    if (this.options.beforeRelease) {
      // Bounded, so the lease renewed at this beat's start cannot lapse while the engine drains.
      let bound: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (bound = setTimeout(resolve, this.options.leaseMs / 3)));
      await Promise.race([this.options.beforeRelease(shards).catch(() => {}), timeout]);
      clearTimeout(bound);
    }
    const gone = this.fence.forget(shards);
    try {
      await this.release(gone);
    } finally {
      if (gone.size > 0) this.told({ kind: 'handedOver', shards: gone.size });
      this.changed({ gained: [], lost: [...gone.keys()] }); // released or not, this node no longer writes to them
    }
  }

  /** Sets the shards unowned, where this node still holds them at these epochs. */
  private async release(shards: ReadonlyMap<number, number>): Promise<void> {
    if (shards.size === 0) return;
    const held = [...shards].sort(([a], [b]) => a - b);
    await this.query(
      `UPDATE shards s SET owner = NULL, lease_until = NULL
         FROM (${mineInShardOrder('$1', '$2', '$3')}) AS mine
        WHERE s.shard = mine.shard`,
      [this.options.nodeId, held.map(([s]) => s), held.map(([, e]) => e)],
    );
  }

  /** Reports every shard lost once the lease renewed by the request sent at `sent` (local monotonic ms) is surely over. */
  private armExpiry(sent: number): void {
    clearTimeout(this.expiry);
    if (this.frozen) return;
    this.expiry = setTimeout(() => {
      const lost = this.fence.forget();
      if (lost.size > 0) this.told({ kind: 'lost', shards: lost.size, reason: 'expired' });
      this.changed({ gained: [], lost: [...lost.keys()] });
    }, Math.max(0, this.options.leaseMs - (performance.now() - sent)));
    this.expiry.unref?.();
  }
}
