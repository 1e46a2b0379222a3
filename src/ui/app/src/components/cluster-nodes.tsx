import { ApiError, api, type ClusterNode } from '../api.ts';
import { shardRanges } from '../../../../common/shard-ranges.ts';
import { formatAgo } from '../format.ts';
import { useNow, usePoll } from '../hooks.ts';
import { ErrorNote } from './panel.tsx';

/**
 * The workers page's cluster section: the nodes (as the database has them), where they listen,
 * when they last renewed their leases, and the shards each holds (the epochs on hover). A single
 * node holding the one shard of an embedded store (LevelDB) is one line: there is no cluster to show.
 */
export function ClusterNodes() {
  const cluster = usePoll((signal) => api.cluster(signal), [], 2000);
  const now = useNow();
  const status = cluster.data;
  // A token for one namespace may see its workers, not the cluster: the section says so in a line.
  if (cluster.error instanceof ApiError && cluster.error.code === 'FORBIDDEN') {
    return <p className="muted small cluster-note" data-testid="cluster-forbidden">The cluster's nodes need a token for every namespace.</p>;
  }
  if (!status) return <ErrorNote error={cluster.error} />;
  if (status.shardCount === 1 && status.nodes.length <= 1) {
    return (
      <p className="muted small cluster-note" data-testid="cluster-single">
        Single node <span className="mono">{status.nodeId}</span>: the store is not shared with other servers.
      </p>
    );
  }
  return (
    <section className="cluster" data-testid="cluster-section">
      <h2>Cluster <span className="muted small">{status.nodes.length} node{status.nodes.length === 1 ? '' : 's'}, {status.shardCount} shards</span></h2>
      <ErrorNote error={cluster.error} />
      {status.unowned.length ? (
        <p className="muted small" data-testid="cluster-unowned" title={`shards ${status.unowned.join(', ')}`}>
          {status.unowned.length} shard{status.unowned.length === 1 ? '' : 's'} without an owner now: being handed over.
        </p>
      ) : null}
      <table className="workers" data-testid="cluster-table">
        <thead>
          <tr><th>Node</th><th>Address</th><th>Last heartbeat</th><th>Shards</th></tr>
        </thead>
        <tbody>
          {status.nodes.map((node) => (
            <NodeRow key={node.nodeId} node={node} self={node.nodeId === status.nodeId} now={now} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function NodeRow({ node, self, now }: { node: ClusterNode; self: boolean; now: number }) {
  return (
    <tr data-testid="cluster-node" data-node-id={node.nodeId}>
      <td className="mono">{node.nodeId}{self ? <span className="tag" title="the node this page is served by">this node</span> : null}</td>
      <td className="mono">{node.address ?? <span className="muted">—</span>}</td>
      {/* Database time: a browser clock ahead of it must not show a heartbeat to come. */}
      <td title={new Date(node.heartbeatAt).toISOString()}>{formatAgo(Math.min(node.heartbeatAt, now), now)}</td>
      <td title={`shard@epoch: ${shardRanges(node.shards)}`} data-testid="cluster-node-shards">
        {node.shards.length} <span className="muted small mono">{shardRanges(node.shards.map(({ shard }) => ({ shard })))}</span>
      </td>
    </tr>
  );
}
