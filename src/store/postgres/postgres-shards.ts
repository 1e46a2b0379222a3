import type { Pool } from 'pg';
import type { LeaseObserver } from '../lease-events.ts';
import { shardOf } from '../shard-hash.ts';
import type { ClusterNode, ShardChange, ShardOwnership } from '../shard-ownership.ts';
import type { ShardFence } from './shard-fence.ts';
import { type LeaseOptions, ShardLeases } from './shard-leases.ts';
import { asStoreError } from './store-context.ts';

export interface PostgresShardsOptions {
  /** Where the store is, for messages (store-context.ts). */
  label: string;
  /** Told what the leases did (the store's lease observers); it must not throw. */
  told?: LeaseObserver;
  /** Where the heartbeat runs, so it never waits behind commits and reads (default: the store's pool). */
  leasePool?: Pool;
}

/**
 * The shard ownership of a PostgreSQL store: what this node holds comes from its fence, kept by
 * its leases (shard-leases.ts); who holds the rest, and which nodes are live, from the `shards`
 * and `nodes` tables.
 *
 * Listeners hear, after the fact:
 * - `gained` when a heartbeat took shards (on open, a lone node gains every shard);
 * - `lost` when a renewal found a shard taken by another node, when a commit's fence check
 *   found one lost, when the lease ran out on the local clock while the database was
 *   unreachable, when the node gave shards up to even out the cluster (after `beforeRelease`),
 *   and for every shard on close.
 */
export class PostgresShards implements ShardOwnership {
  private readonly listeners = new Set<(change: ShardChange) => void>();
  readonly leases: ShardLeases;
  private readonly label: string;
  private readonly told: LeaseObserver;

  constructor(
    private readonly pool: Pool, private readonly fence: ShardFence, readonly shardCount: number, private readonly lease: Omit<LeaseOptions, 'nodeId' | 'shardCount'>,
    options: PostgresShardsOptions,
  ) {
    this.label = options.label;
    this.told = options.told ?? (() => {});
    const leasePool = options.leasePool ?? pool;
    fence.onLost = (lost) => {
      this.told({ kind: 'lost', shards: lost.length, reason: 'fence' });
      this.changed({ gained: [], lost });
    };
    this.leases = new ShardLeases(leasePool, fence, { ...lease, nodeId: fence.nodeId, shardCount }, (change) => this.changed(change), (event) => this.told(event));
  }

  get nodeId(): string {
    return this.fence.nodeId;
  }

  shardOf(namespace: string, id: string): number {
    return shardOf(namespace, id, this.shardCount);
  }

  held(): ReadonlyMap<number, number> {
    return this.fence.held();
  }

  holds(shard: number): boolean {
    return this.fence.epochOf(shard) !== undefined;
  }

  subscribe(listener: (change: ShardChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the listeners of a change of the held set; a listener that throws cannot stop a heartbeat or a commit. */
  changed(change: ShardChange): void {
    if (change.gained.length === 0 && change.lost.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // The listener's own failure; the change has happened either way.
      }
    }
  }

  /** The nodes whose heartbeat is within the lease, with the shards whose lease they hold. */
  async nodes(): Promise<ClusterNode[]> {
    const rows = await this.nodeRows(
      `SELECT n.node_id, n.address, n.heartbeat_at, s.shard, s.epoch
         FROM nodes n LEFT JOIN shards s ON s.owner = n.node_id AND s.lease_until > now()
        WHERE n.heartbeat_at > now() - $1::integer * interval '1 millisecond'
        ORDER BY n.node_id, s.shard`,
      [this.lease.leaseMs],
    );
    return nodesOf(rows);
  }

  /** The live node holding `shard` under a lease in force, or undefined (none: a take is pending). */
  async ownerOf(shard: number): Promise<ClusterNode | undefined> {
    const rows = await this.nodeRows(
      `SELECT n.node_id, n.address, n.heartbeat_at, s.shard, s.epoch
         FROM nodes n JOIN shards s ON s.owner = n.node_id AND s.lease_until > now()
        WHERE n.node_id = (SELECT owner FROM shards WHERE shard = $1 AND lease_until > now())
        ORDER BY s.shard`,
      [shard],
    );
    return nodesOf(rows)[0];
  }

  /**
   * Rows of nodes and their shards. A failure is STORE_FAILED (retryable), as for the store's
   * own reads: while the database is away, a request routed by shard must say "try again", not
   * INTERNAL (found by test/fault/postgres-restart.test.ts).
   */
  private async nodeRows(sql: string, params: unknown[]): Promise<NodeRow[]> {
    try {
      return (await this.pool.query<NodeRow>(sql, params)).rows;
    } catch (error) {
      throw asStoreError(error, this.label);
    }
  }

  setAddress(address: string): Promise<void> {
    return this.leases.setAddress(address);
  }

  onHandOver(drain: (shards: number[]) => Promise<void>): void {
    this.leases.handOverWith(drain);
  }

  /** Fault tests: stops the heartbeat and the lease timer, as SIGSTOP would. */
  pauseHeartbeat(): void {
    this.leases.pause();
  }

  /** Fault tests: starts the heartbeat again (SIGCONT). */
  resumeHeartbeat(): void {
    this.leases.resume();
  }
}

/** A node, and one shard it holds (null: none) — the rows `nodes()` and `ownerOf()` read. */
interface NodeRow { node_id: string; address: string | null; heartbeat_at: Date; shard: number | null; epoch: string | null }

function nodesOf(rows: NodeRow[]): ClusterNode[] {
  const byNode = new Map<string, ClusterNode>();
  for (const row of rows) {
    let node = byNode.get(row.node_id);
    if (!node) {
      node = { nodeId: row.node_id, heartbeatAt: row.heartbeat_at.getTime(), shards: [] };
      if (row.address !== null) node.address = row.address;
      byNode.set(row.node_id, node);
    }
    if (row.shard !== null) node.shards.push({ shard: row.shard, epoch: Number(row.epoch) });
  }
  return [...byNode.values()];
}
