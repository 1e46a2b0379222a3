import type { Pool } from 'pg';
import { shardOf } from '../shard-hash.ts';
import type { ClusterNode, ShardChange, ShardOwnership } from '../shard-ownership.ts';
import type { ShardFence } from './shard-fence.ts';

/**
 * The shard ownership of a PostgreSQL store, read from its fence (what this node holds) and from
 * the `shards` table (who holds the rest).
 */
export class PostgresShards implements ShardOwnership {
  private readonly listeners = new Set<(change: ShardChange) => void>();

  constructor(private readonly pool: Pool, private readonly fence: ShardFence, readonly shardCount: number) {}

  get nodeId(): string {
    return this.fence.nodeId;
  }

  shardOf(namespace: string, id: string): number {
    return shardOf(namespace, id, this.shardCount);
  }

  held(): ReadonlyMap<number, number> {
    return this.fence.held();
  }

  subscribe(listener: (change: ShardChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the listeners of a change the fence made (a shard found lost by a commit, a take). */
  changed(change: ShardChange): void {
    if (change.gained.length === 0 && change.lost.length === 0) return;
    for (const listener of this.listeners) listener(change);
  }

  async nodes(): Promise<ClusterNode[]> {
    const { rows } = await this.pool.query<{ shard: number; owner: string; epoch: string; now: Date }>(
      'SELECT shard, owner, epoch, now() AS now FROM shards WHERE owner IS NOT NULL ORDER BY shard',
    );
    const byNode = new Map<string, ClusterNode>();
    for (const row of rows) {
      const node = byNode.get(row.owner) ?? { nodeId: row.owner, heartbeatAt: row.now.getTime(), shards: [] };
      node.shards.push({ shard: row.shard, epoch: Number(row.epoch) });
      byNode.set(row.owner, node);
    }
    return [...byNode.values()];
  }

  async ownerOf(shard: number): Promise<ClusterNode | undefined> {
    return (await this.nodes()).find((node) => node.shards.some((s) => s.shard === shard));
  }
}
