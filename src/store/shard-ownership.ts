import type { ClusterNode } from '../common/cluster-status.ts';

/**
 * Which shards this node may write, and who holds the others: the store's answer to "is this
 * execution mine?" (DESIGN.md, "Beyond one machine"). Executions are split into `shardCount`
 * shards by `shardOf(namespace, workflowId)`; a node runs the executions of the shards it holds,
 * each at the epoch it took it with, and every commit it makes is fenced by that epoch.
 *
 * LevelDB is a cluster of one node that always holds its one shard. PostgreSQL shares shards
 * between nodes with leases: a shard may be gained (taken, or handed over) and lost (its lease
 * expired while this node was paused or cut off, or another node took it) at any time.
 */
export interface ShardOwnership {
  /** How many shards the store has; fixed when it was first initialised. */
  readonly shardCount: number;
  /** This node's id in the cluster (the `nodes` table), stable for the life of the store object. */
  readonly nodeId: string;
  /** The shard an execution (or schedule) of `id` in `namespace` belongs to. */
  shardOf(namespace: string, id: string): number;
  /** The shards this node holds now, each with the epoch it holds it at (a copy). */
  held(): ReadonlyMap<number, number>;
  /** Whether this node holds `shard` now: `held().has(shard)` without the copy, for hot paths. */
  holds(shard: number): boolean;
  /**
   * Tells `listener` of every change of the held set, after it happened: shards gained (their
   * executions may now be loaded and their timers and tasks scanned) and shards lost (this node
   * must drop their executions from memory and make no further commit to them). Answers the
   * function that stops telling.
   */
  subscribe(listener: (change: ShardChange) => void): () => void;
  /** The live nodes of the cluster, this one included (one entry, this node, on LevelDB). */
  nodes(): Promise<ClusterNode[]>;
  /** The node that holds `shard` now (undefined while no node holds it: a take is pending). */
  ownerOf(shard: number): Promise<ClusterNode | undefined>;
  /** Where other nodes, workers and clients reach this node (`host:port`), once it listens. No-op on one node. */
  setAddress?(address: string): Promise<void>;
  /**
   * Called before this node gives shards up to another node on its own (evening out the cluster,
   * or stopping): `drain` lets their commits in flight finish first, so the next owner takes over
   * at once and nothing is refused by the fence. Bounded by the store (a third of a lease).
   */
  onHandOver?(drain: (shards: number[]) => Promise<void>): void;
}

export interface ShardChange {
  gained: number[];
  lost: number[];
}

// The shape of a node is the cluster status's (src/common, so the web UI shares it).
export type { ClusterNode } from '../common/cluster-status.ts';
