import type { ExecutionStatus } from '../api.ts';
import { stateText } from '../format.ts';

const ICON: Record<ExecutionStatus, string> = {
  running: '●', completed: '✓', failed: '✕', canceled: '⊘', terminated: '■', continuedAsNew: '↻', blocked: '⚠',
};

/**
 * A run's status, and beside it the state it closed in when given (`finalState`): a run that
 * completed in its `declined` final state must not read as a plain green success.
 */
export function StatusBadge({ status, finalState }: { status: ExecutionStatus; finalState?: unknown }) {
  const badge = <span className={`badge status-${status}`} data-testid="status-badge" data-status={status}>{ICON[status] ?? '?'} {status}</span>;
  if (finalState === undefined || finalState === null) return badge;
  const state = stateText(finalState);
  return (
    <span className="status-with-state">
      {badge} <span className="final-state" data-testid="final-state" title={`closed in state ${state}`}>in <span className="mono">{state}</span></span>
    </span>
  );
}
