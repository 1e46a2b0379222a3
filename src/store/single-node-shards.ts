import { hostname } from 'node:os';
import { InvalidArgumentError, ShardOwnershipLostError } from '../common/errors.ts';
import type { ClusterNode, ShardChange, ShardOwnership } from './shard-ownership.ts';

/** The one shard of a single-node store, held at the one epoch there ever is. */
const SHARD = 0;
const EPOCH = 1;

/**
 * The shard ownership of an embedded store (LevelDB): a cluster of one node that holds its one
 * shard for as long as it is open. Nothing is ever gained or lost, so the engine's shard runtime
 * runs on it unchanged and the cluster adds leases, not a second code path.
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

  subscribe(_listener: (change: ShardChange) => void): () => void {
    return () => {};
  }

  async nodes(): Promise<ClusterNode[]> {
    return [this.self()];
  }

  async ownerOf(_shard: number): Promise<ClusterNode | undefined> {
    return this.self();
  }

  /** Refuses a commit that names another shard or epoch than the one there is. */
  checkCommit(shard: number | undefined, epoch: number | undefined): void {
    if (shard !== undefined && shard !== SHARD) {
      throw new InvalidArgumentError(`this store has one shard (0); a commit for shard ${shard} belongs to another store`);
    }
    if (epoch !== undefined && epoch !== EPOCH) throw new ShardOwnershipLostError(SHARD, epoch, this.nodeId, EPOCH);
  }

  /** True when a scan of `shard` looks at this store's rows (undefined: every shard). */
  scans(shard: number | undefined): boolean {
    return shard === undefined || shard === SHARD;
  }

  private self(): ClusterNode {
    return { nodeId: this.nodeId, heartbeatAt: Math.max(this.since, Date.now()), shards: [{ shard: SHARD, epoch: EPOCH }] };
  }
}
