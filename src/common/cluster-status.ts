/**
 * The cluster as `GET /api/v1/cluster` describes it: shared by the server (src/hub/cluster-routes.ts),
 * `perdure cluster status` and the web UI's workers page, which imports nothing but src/common.
 */

export interface ClusterNode {
  nodeId: string;
  /** Where other nodes, workers and clients reach it: `host:port` (undefined when it has no listener). */
  address?: string;
  /** When the node last renewed its leases, ms since epoch (database time). */
  heartbeatAt: number;
  /** The shards it holds and their epochs. */
  shards: { shard: number; epoch: number }[];
}

/** What `GET /api/v1/cluster` answers (and `perdure cluster status` prints). */
export interface ClusterStatus {
  /** The node that answered. */
  nodeId: string;
  shardCount: number;
  /** Live nodes, this one included; shards no node holds now are `unowned`. */
  nodes: ClusterNode[];
  unowned: number[];
}

/**
 * `0-3@2 5@7`: the shards a node holds, runs of consecutive shards at one epoch written as a
 * range. Without epochs (`{ epochs: false }`), `0-3 5`: runs of consecutive shards, the short
 * form the web UI shows with the epochs on hover.
 */
export function shardRanges(shards: readonly { shard: number; epoch: number }[], options: { epochs?: boolean } = {}): string {
  const epochs = options.epochs ?? true;
  const sorted = [...shards].sort((a, b) => a.shard - b.shard);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]!.shard === sorted[j]!.shard + 1 && (!epochs || sorted[j + 1]!.epoch === sorted[i]!.epoch)) j++;
    parts.push(`${sorted[i]!.shard}${j > i ? `-${sorted[j]!.shard}` : ''}${epochs ? `@${sorted[i]!.epoch}` : ''}`);
    i = j + 1;
  }
  return parts.join(' ');
}
