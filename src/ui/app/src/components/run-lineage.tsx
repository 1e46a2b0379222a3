import { api, type ExecutionDetail, type ExecutionSummary } from '../api.ts';
import { formatTime, shortId } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { Link, paths } from '../router.tsx';
import { StatusBadge } from './status-badge.tsx';

/** At most this many runs of one workflow id are listed (newest first). */
const MAX_RUNS = 20;

/**
 * The runs of one workflow id, newest first: a workflow that continued as new, or was reset,
 * has several; the API answers for the current one. Read through the listing's workflow id
 * prefix (which also matches longer ids, dropped here), so it costs one bounded scan.
 */
export function useRunsOf(namespace: string, d: ExecutionDetail | undefined) {
  return usePoll(async (signal) => {
    if (!d) return [];
    const runs: ExecutionSummary[] = [];
    let token: string | null = null;
    let requests = 0;
    do {
      const page = await api.list(namespace, { workflowIdPrefix: d.workflowId, pageToken: token, limit: 50 }, signal);
      runs.push(...page.executions.filter((r) => r.workflowId === d.workflowId));
      token = page.nextPageToken;
      requests++;
    } while (token && runs.length < MAX_RUNS && requests < 5);
    return runs.slice(0, MAX_RUNS);
  }, [namespace, d?.workflowId, d?.runId, d?.status], 0);
}

/**
 * Where this run stands among its relatives: the parent that started it (a child workflow), the
 * run it continued from or as, and every run of its workflow id with the one shown marked.
 */
export function RunLineage({ namespace, d, runs }: { namespace: string; d: ExecutionDetail; runs: readonly ExecutionSummary[] }) {
  return (
    <div className="lineage" data-testid="run-lineage">
      {d.continuedFrom ? (
        <p data-testid="continued-from">
          Continued from run <span className="mono" title={d.continuedFrom}>{shortId(d.continuedFrom)}</span>, which ended by continuing as new:
          this run started with the input that run handed over, and a fresh history.
        </p>
      ) : null}
      {d.continuedAs ? (
        <p data-testid="continued-as">
          This run continued as new as run <Link to={paths.execution(namespace, d.workflowId)} className="mono" title={d.continuedAs}>{shortId(d.continuedAs)}</Link>.
        </p>
      ) : null}
      {runs.length > 1 ? (
        <table className="compact" data-testid="runs-table">
          <thead><tr><th>Run</th><th>Status</th><th>Started</th></tr></thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.runId} data-testid="run-row" data-run-id={r.runId} data-current={r.runId === d.runId}>
                <td className="mono small" title={r.runId}>
                  {shortId(r.runId)}
                  {r.runId === d.runId ? <span className="tag">shown here</span> : null}
                  {r.runId === d.continuedFrom ? <span className="tag">previous</span> : null}
                  {r.runId === d.continuedAs ? <span className="tag">next</span> : null}
                </td>
                <td><StatusBadge status={r.status} /></td>
                <td className="small" title={new Date(r.startedAt).toISOString()}>{formatTime(r.startedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {runs.length > 1 ? <p className="muted small">The server shows the history of the current run only: older runs are listed, not opened.</p> : null}
    </div>
  );
}

/** The parent of a child workflow's run, as a link to its page; the run id says which run of the parent. */
export function ParentLink({ parent }: { parent: NonNullable<ExecutionDetail['parent']> }) {
  return (
    <span data-testid="parent">
      child <span className="mono">{parent.childId}</span> of{' '}
      <Link to={paths.execution(parent.namespace, parent.workflowId, parent.runId)} className="mono" data-testid="parent-link">{parent.workflowId}</Link>{' '}
      <span className="muted mono small" title={parent.runId}>run {shortId(parent.runId)}</span>
    </span>
  );
}

/**
 * A note when the link that led here named a run (`?run=`) that is not the one shown: the
 * workflow id's page always shows its current run.
 */
export function OtherRunNote({ requested, d, runs }: { requested: string; d: ExecutionDetail; runs: readonly ExecutionSummary[] }) {
  if (requested === d.runId) return null;
  const older = runs.find((r) => r.runId === requested);
  return (
    <div className="info-note" data-testid="other-run-note">
      You followed a link to run <span className="mono" title={requested}>{shortId(requested)}</span>
      {older ? <> ({older.status === 'continuedAsNew' ? 'it continued as new' : `now ${older.status}`})</> : null}. This page shows the workflow id's
      current run, <span className="mono" title={d.runId}>{shortId(d.runId)}</span>.
    </div>
  );
}
