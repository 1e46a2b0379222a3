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
