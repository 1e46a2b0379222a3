import { hostname } from 'node:os';
import type { ClusterNode, ShardChange, ShardOwnership } from './shard-ownership.ts';

/** The one shard of a single-node store, held at the one epoch there ever is. */
const SHARD = 0;
const EPOCH = 1;

/**
 * The shard ownership of an embedded store (LevelDB): a cluster of one node that holds its one
 * shard for as long as it is open. Nothing is ever gained or lost, so the engine's shard runtime
 * runs on it unchanged and the cluster adds leases, not a second code path. Commits are checked
 * against it by the store's base (checked-store.ts), like every backend's.
 */
export class SingleNodeShards implements ShardOwnership {
  readonly shardCount = 1;
  readonly nodeId = `${hostname()}:${process.pid}`;
  private readonly since = Date.now();

  shardOf(_namespace: string, _id: string): number {
    return SHARD;
  }

  held(): ReadonlyMap<number, number> {
    return new Map([[SHARD, EPOCH]]);
  }

  holds(shard: number): boolean {
    return shard === SHARD;
  }

  subscribe(_listener: (change: ShardChange) => void): () => void {
    return () => {};
  }

  async nodes(): Promise<ClusterNode[]> {
    return [this.self()];
  }

  async ownerOf(_shard: number): Promise<ClusterNode | undefined> {
    return this.self();
  }

  private self(): ClusterNode {
    return { nodeId: this.nodeId, heartbeatAt: Math.max(this.since, Date.now()), shards: [{ shard: SHARD, epoch: EPOCH }] };
  }
}
