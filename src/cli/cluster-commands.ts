import { Command, Option } from 'commander';
import type { ClusterStatus } from '../common/cluster-status.ts';
import { shardRanges } from '../common/shard-ranges.ts';
import { printJson, table, time } from './format.ts';
import { DEFAULT_ADDRESS, HttpApi } from './http.ts';

/**
 * `perdure cluster status`: the nodes of the cluster (as the database has them), where they
 * listen, when they last renewed their leases, and the shards each holds at which epoch. Any node
 * answers for all of them. On LevelDB: one node holding the one shard.
 *
 * @example
 * perdure cluster status --address http://10.0.0.2:7233
 */
export function clusterCommands(): Command {
  const group = new Command('cluster').description('the nodes of a cluster and the shards they hold');
  group.command('status').description('list the live nodes, their addresses, last heartbeats and shards')
    .addOption(new Option('--address <url>', 'any node\'s HTTP address').env('PERDURE_ADDRESS').default(DEFAULT_ADDRESS))
    .addOption(new Option('--token <token>', 'bearer token for every namespace ("*"), when the server requires one').env('PERDURE_TOKEN'))
    .option('--json', 'print JSON (for scripts) instead of a table')
    .action(async (o: { address: string; token?: string; json?: boolean }) => {
      const { body } = await new HttpApi({ address: o.address, namespace: 'default', token: o.token }).request<ClusterStatus>('GET', '/api/v1/cluster');
      if (o.json) return printJson(body);
      console.log(`${body.nodes.length} node${body.nodes.length === 1 ? '' : 's'}, ${body.shardCount} shard${body.shardCount === 1 ? '' : 's'}${body.unowned.length ? ` (${body.unowned.length} without an owner now: being handed over)` : ''}; answered by ${body.nodeId}`);
      console.log(table(body.nodes.map((node) => ({
        node: node.nodeId + (node.nodeId === body.nodeId ? ' (this)' : ''),
        address: node.address ?? '',
        heartbeat: time(node.heartbeatAt),
        shards: node.shards.length,
        epochs: shardRanges(node.shards),
      })), ['node', 'address', 'heartbeat', 'shards', 'epochs']));
    });
  return group;
}
