import { api, type ExecutionDetail, type ExecutionSummary } from '../api.ts';
import { formatTime, shortId } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { Link, paths } from '../router.tsx';
import { StatusBadge } from './status-badge.tsx';

/** At most this many runs of one workflow id are listed (newest first). */
const MAX_RUNS = 20;

/**
 * The runs of one workflow id, newest first: a workflow that continued as new, or was reset,
 * has several. Read through the listing's workflow id prefix (which also matches longer ids,
 * dropped here), so it costs one bounded scan, again when the current run `d` or its status
 * changes.
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
 * Where this run stands among its relatives: the run it continued from or as, and every run of
 * its workflow id, each a link to its page, with the one shown and the current one marked.
 * `currentRunId` is the workflow id's current run (undefined while it is read).
 */
export function RunLineage({ namespace, d, runs, currentRunId }: { namespace: string; d: ExecutionDetail; runs: readonly ExecutionSummary[]; currentRunId?: string }) {
  const to = (runId: string) => runPath(namespace, d.workflowId, runId, currentRunId);
  return (
    <div className="lineage" data-testid="run-lineage">
      {d.continuedFrom ? (
        <p data-testid="continued-from">
          Continued from run <Link to={to(d.continuedFrom)} className="mono" title={d.continuedFrom}>{shortId(d.continuedFrom)}</Link>, which ended by continuing as new:
          this run started with the input that run handed over, and a fresh history.
        </p>
      ) : null}
      {d.continuedAs ? (
        <p data-testid="continued-as">
          This run continued as new as run <Link to={to(d.continuedAs)} className="mono" title={d.continuedAs}>{shortId(d.continuedAs)}</Link>.
        </p>
      ) : null}
      {runs.length > 1 ? (
        <table className="compact" data-testid="runs-table">
          <thead><tr><th>Run</th><th>Status</th><th>Started</th></tr></thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.runId} data-testid="run-row" data-run-id={r.runId} data-shown={r.runId === d.runId} data-current={r.runId === currentRunId}>
                <td className="mono small" title={r.runId}>
                  {r.runId === d.runId ? shortId(r.runId) : <Link to={to(r.runId)} data-testid="run-link">{shortId(r.runId)}</Link>}
                  {r.runId === d.runId ? <span className="tag">shown here</span> : null}
                  {r.runId === currentRunId ? <span className="tag">current</span> : null}
                  {r.runId === d.continuedFrom ? <span className="tag">previous</span> : null}
                  {r.runId === d.continuedAs ? <span className="tag">next</span> : null}
                </td>
                <td><StatusBadge status={r.status} finalState={r.finalState} /></td>
                <td className="small" title={new Date(r.startedAt).toISOString()}>{formatTime(r.startedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

/** A run's page: the workflow id's page for its current run, `?run=` for any other. */
function runPath(namespace: string, workflowId: string, runId: string, currentRunId: string | undefined): string {
  return paths.execution(namespace, workflowId, runId === currentRunId ? undefined : runId);
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
 * The banner over an older run's page: which run this is, how it ended, and a link to the
 * workflow id's current run (where the actions are).
 */
export function OlderRunBanner({ namespace, d, current }: { namespace: string; d: ExecutionDetail; current: ExecutionDetail }) {
  const resetAs = resetInto(d);
  const ending = d.status === 'continuedAsNew' ? 'continued as new'
    : resetAs ? 'reset'
    : `closed (${d.status})`;
  const successor = d.continuedAs ?? resetAs;
  return (
    <div className="info-note" data-testid="older-run-banner" data-run-id={d.runId}>
      Run <span className="mono" title={d.runId}>{shortId(d.runId)}</span> of <span className="mono">{d.workflowId}</span> — {ending}
      {successor && successor !== current.runId ? <> as run <Link to={paths.execution(namespace, d.workflowId, successor)} className="mono" title={successor}>{shortId(successor)}</Link></> : null}
      ; the current run is{' '}
      <Link to={paths.execution(namespace, d.workflowId)} className="mono" title={current.runId} data-testid="current-run-link">{shortId(current.runId)}</Link>{' '}
      <StatusBadge status={current.status} />. This page shows the older run as it ended.
    </div>
  );
}

/** Shown under the server's 404 when `?run=` names no run of this workflow id. */
export function RunNotFound({ namespace, requested, current }: { namespace: string; requested: string; current: ExecutionDetail }) {
  return (
    <div className="info-note" data-testid="run-not-found">
      The workflow id <span className="mono">{current.workflowId}</span> has no run <span className="mono">{requested}</span>. Its current run is{' '}
      <Link to={paths.execution(namespace, current.workflowId)} className="mono" title={current.runId} data-testid="current-run-link">{shortId(current.runId)}</Link>.
    </div>
  );
}

/**
 * The run a reset started from this one, when the reset terminated it: the engine's reset ends
 * an open run with the reason `… (new run <runId>)` (engine.reset). A closed run that was reset
 * keeps its own ending; the new run's history says where it came from (WorkflowReset).
 */
function resetInto(d: ExecutionDetail): string | undefined {
  if (d.status !== 'terminated') return undefined;
  return /\(new run ([0-9a-f-]+)\)$/.exec(d.failure?.message ?? '')?.[1];
}
