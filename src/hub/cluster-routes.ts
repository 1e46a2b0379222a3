import type { FastifyInstance } from 'fastify';
import { PerdureError } from '../common/errors.ts';
import type { ClusterStatus } from '../common/cluster-status.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { Authenticator } from './auth.ts';

export type { ClusterStatus } from '../common/cluster-status.ts';

/**
 * The cluster's membership and shard ownership, as the database has it: for `perdure cluster
 * status` and the web UI's workers page. On LevelDB, one node that holds the one shard.
 */
export function registerClusterRoutes(api: FastifyInstance, deps: { cluster: ShardOwnership; auth: Authenticator }): void {
  api.get('/cluster', async (request): Promise<ClusterStatus> => {
    const grant = deps.auth.authenticate(request.headers.authorization);
    if (grant && grant.namespace !== '*') {
      throw new PerdureError('FORBIDDEN', `/cluster reports every namespace's shards: it needs a token for all namespaces ("*"), not one for "${grant.namespace}".`);
    }
    return clusterStatus(deps.cluster);
  });
}

export async function clusterStatus(cluster: ShardOwnership): Promise<ClusterStatus> {
  const nodes = await cluster.nodes();
  const owned = new Set(nodes.flatMap((node) => node.shards.map((s) => s.shard)));
  const unowned = Array.from({ length: cluster.shardCount }, (_, shard) => shard).filter((shard) => !owned.has(shard));
  return { nodeId: cluster.nodeId, shardCount: cluster.shardCount, nodes, unowned };
}
