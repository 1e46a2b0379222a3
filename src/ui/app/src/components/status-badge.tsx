import type { ExecutionStatus } from '../api.ts';

const ICON: Record<ExecutionStatus, string> = {
  running: '●', completed: '✓', failed: '✕', canceled: '⊘', terminated: '■', continuedAsNew: '↻', blocked: '⚠',
};

export function StatusBadge({ status }: { status: ExecutionStatus }) {
  return <span className={`badge status-${status}`} data-testid="status-badge" data-status={status}>{ICON[status] ?? '?'} {status}</span>;
}
