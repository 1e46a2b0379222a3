import type { PendingChildView } from '../../../../common/execution-types.ts';
import { shortId } from '../format.ts';
import type { ChildWorkflowView } from '../lib/history-view.ts';
import { Link, paths } from '../router.tsx';
import { StatusBadge } from './status-badge.tsx';

/**
 * The child workflows of a run: those it waits for (the server's pending children) and those
 * that already ended (from its history), each linked to its own execution page. Children run in
 * the parent's namespace.
 */
export function ChildWorkflows({ namespace, fromHistory, pending }: { namespace: string; fromHistory: readonly ChildWorkflowView[]; pending: readonly PendingChildView[] }) {
  const children = mergeChildren(fromHistory, pending);
  if (children.length === 0) return <p className="muted">None.</p>;
  return (
    <table className="compact" data-testid="child-workflows-table">
      <thead><tr><th>Child</th><th>Workflow</th><th>Status</th></tr></thead>
      <tbody>
        {children.map((c, i) => (
          <tr key={`${c.childId}/${i}`} data-testid="child-row" data-child-id={c.childId} data-workflow-id={c.workflowId} data-status={c.status}>
            <td><span className="mono">{c.childId}</span><div className="muted small">{c.workflowType}</div></td>
            <td>
              <Link to={paths.execution(namespace, c.workflowId, c.runId)} className="mono" data-testid="child-link">{c.workflowId}</Link>
              <div className="muted small mono" title={c.runId ?? 'not started yet'}>
                {c.runId ? `run ${shortId(c.runId)}` : 'not started yet'}
                {c.parentClosePolicy !== 'terminate' ? ` · on parent close: ${c.parentClosePolicy}` : ''}
              </div>
            </td>
            <td>
              {c.status === 'scheduled' ? <span className="badge status-blocked">◌ starting</span> : <StatusBadge status={c.status} />}
              {c.cancelRequested && (c.status === 'running' || c.status === 'scheduled') ? <span className="tag">cancel requested</span> : null}
              {c.failure ? <div className="small failure-text" title={c.failure.message}>{c.failure.message}</div> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The history's children, brought up to date with the description's pending ones: the history
 * may be read a poll behind, and a child the server lists as pending is shown even before its
 * events are.
 */
function mergeChildren(fromHistory: readonly ChildWorkflowView[], pending: readonly PendingChildView[]): ChildWorkflowView[] {
  const children = fromHistory.map((c) => ({ ...c }));
  for (const p of pending) {
    const known = children.findLast((c) => c.childId === p.childId);
    const status = p.started ? 'running' as const : 'scheduled' as const;
    const open = known && (known.status === 'scheduled' || known.status === 'running');
    // Closed in a history read after the description: the history is the newer word.
    if (known && !open && (!p.runId || known.runId === p.runId)) continue;
    if (known && open) Object.assign(known, { status, runId: p.runId || known.runId, workflowId: p.workflowId });
    else {
      children.push({
        childId: p.childId, workflowType: p.workflowType, workflowId: p.workflowId, runId: p.runId || undefined,
        parentClosePolicy: p.parentClosePolicy, status, cancelRequested: false,
      });
    }
  }
  return children;
}
