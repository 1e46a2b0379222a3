import { api } from '../api.ts';
import { ClusterNodes } from '../components/cluster-nodes.tsx';
import { ErrorNote } from '../components/panel.tsx';
import { formatAgo, formatTime } from '../format.ts';
import { useNow, usePoll } from '../hooks.ts';

/** Worker sessions: one per task queue a worker registered, with its slots and when it was last heard from; below, the cluster's nodes. */
export function WorkersPage() {
  const workers = usePoll((signal) => api.workers(signal), [], 2000);
  const now = useNow();
  const list = workers.data?.workers ?? [];
  const open = list.filter((w) => w.closedAt === undefined);
  const queues = new Map<string, { sessions: number; slots: number; free: number }>();
  for (const w of open) {
    const key = `${w.namespace}/${w.taskQueue}`;
    const q = queues.get(key) ?? { sessions: 0, slots: 0, free: 0 };
    q.sessions++;
    q.slots += w.slots;
    q.free += w.freeSlots;
    queues.set(key, q);
  }
  return (
    <div className="page" data-testid="workers-page">
      <div className="page-header"><h1>Workers</h1></div>
      <ErrorNote error={workers.error} />
      {queues.size ? (
        <div className="queue-cards">
          {[...queues].map(([key, q]) => (
            <div key={key} className="queue-card">
              <div className="mono">{key}</div>
              <div className="big">{q.free}<span className="muted small"> / {q.slots} slots free</span></div>
              <div className="muted small">{q.sessions} worker{q.sessions === 1 ? '' : 's'}</div>
            </div>
          ))}
        </div>
      ) : null}
      <table className="workers" data-testid="workers-table">
        <thead>
          <tr><th>Worker</th><th>Namespace / task queue</th><th>Activities</th><th>Free slots</th><th>Done / failed</th><th>Connected</th><th>Last seen</th></tr>
        </thead>
        <tbody>
          {list.map((w) => (
            <tr key={w.sessionId} className={w.closedAt ? 'closed' : ''} data-testid="worker-row">
              <td>{w.identity ?? <span className="muted">anonymous</span>} <span className="muted small mono">{w.sessionId}</span>{w.closedAt ? <span className="tag">disconnected</span> : null}</td>
              <td className="mono">{w.namespace} / {w.taskQueue}</td>
              <td className="small">{w.activityTypes.join(', ')}</td>
              <td>{w.closedAt ? '—' : `${w.freeSlots} / ${w.slots}`}</td>
              <td>{w.tasksCompleted} / {w.tasksFailed}</td>
              <td title={new Date(w.connectedAt).toISOString()}>{formatTime(w.connectedAt)}</td>
              <td>{w.closedAt ? `left ${formatAgo(w.closedAt, now)}` : formatAgo(w.lastSeenAt, now)}</td>
            </tr>
          ))}
          {workers.data && list.length === 0 ? <tr><td colSpan={7} className="empty">No worker is connected. Start one with <code>perdure worker --activities &lt;module&gt; --task-queue &lt;queue&gt;</code>.</td></tr> : null}
        </tbody>
      </table>
      <ClusterNodes />
    </div>
  );
}
