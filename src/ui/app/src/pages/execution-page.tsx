import { useEffect, useMemo, useRef, useState } from 'react';
import { api, type ExecutionDetail, type HistoryEvent, type RunPath, type WorkflowType } from '../api.ts';
import { ActionsPanel } from '../components/actions-panel.tsx';
import { ChildWorkflows } from '../components/child-workflows.tsx';
import { HistoryTimeline } from '../components/history-timeline.tsx';
import { JsonView } from '../components/json-view.tsx';
import { SearchAttributesTable } from '../components/search-attributes.tsx';
import { ErrorNote, Panel } from '../components/panel.tsx';
import { OlderRunBanner, ParentLink, RunLineage, RunNotFound, useRunsOf } from '../components/run-lineage.tsx';
import { Statechart } from '../components/statechart.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatAgo, formatBytes, formatDuration, formatTime, shortId, shortVersion, stateText } from '../format.ts';
import { useNow, usePoll } from '../hooks.ts';
import { causeChain, childWorkflows, inputOf, nextAttempts, timerName, type FailureInfo } from '../lib/history-view.ts';
import { acceptedEvents, activeStateIds, machineGraph, summarizePath, type MachineGraph } from '../lib/machine-graph.ts';
import { Link, paths } from '../router.tsx';
import { isOpen, useShownRun } from './use-shown-run.ts';

/**
 * One execution: its statechart with the current state lit and the path so far, its status,
 * input, context, output or failure, what it waits on (activities, timers, child workflows), its
 * parent and the other runs of its workflow id, the actions a person can take, and the whole
 * history as a timeline. The page is the workflow id's: it shows the current run, or the run
 * `requestedRun` (`?run=`) names — an older one is read by its run id, with a banner that leads
 * to the current run and without the actions, which only the open run takes.
 */
export function ExecutionPage({ namespace, workflowId, requestedRun }: { namespace: string; workflowId: string; requestedRun?: string }) {
  const [selectedSeq, setSelectedSeq] = useState<number | null>(null);
  const now = useNow();
  const shown = useShownRun(namespace, workflowId, requestedRun);
  const d = shown.detail;
  const running = d !== undefined && !shown.older && isOpen(d);
  const types = usePoll((signal) => api.types(signal), [], 0);
  const { history, path } = useRunData(namespace, workflowId, d);

  const definition = useMemo(() => findDefinition(types.data?.types, d), [types.data, d?.type, d?.version]); // eslint-disable-line react-hooks/exhaustive-deps
  const graph: MachineGraph | undefined = useMemo(() => (definition ? machineGraph(definition) : undefined), [definition]);

  const stateAfter = useMemo(() => new Map((path?.steps ?? []).map((s) => [s.seq, s.value] as const)), [path]);
  const selectedValue = selectedSeq === null ? undefined : valueAt(path, selectedSeq);
  const shownValue = selectedSeq === null ? d?.state.value ?? path?.steps.at(-1)?.value : selectedValue;
  const active = useMemo(() => (graph ? activeStateIds(graph, shownValue) : new Set<string>()), [graph, JSON.stringify(shownValue)]); // eslint-disable-line react-hooks/exhaustive-deps
  const summary = useMemo(() => {
    if (!graph || !path) return undefined;
    const steps = selectedSeq === null ? path.steps : path.steps.filter((s) => s.seq <= selectedSeq);
    return summarizePath(graph, steps);
  }, [graph, path, selectedSeq]);
  const accepts = d?.state.accepts ?? path?.accepts ?? (graph ? acceptedEvents(graph, activeStateIds(graph, d?.state.value)) : []);
  const retries = useMemo(() => nextAttempts(history ?? []), [history]);
  const runningInvokes = useMemo(() => new Set((d?.pendingActivities ?? []).map((a) => a.activityId)), [d]);
  const children = useMemo(() => childWorkflows(history ?? []), [history]);
  const runs = useRunsOf(namespace, shown.current).data ?? [];

  if (shown.error && !d) {
    return (
      <div className="page">
        <p><Link to={paths.executions(namespace)}>← Executions</Link></p>
        <ErrorNote error={shown.error} />
        {shown.older && shown.current ? <RunNotFound namespace={namespace} requested={requestedRun!} current={shown.current} /> : null}
      </div>
    );
  }
  if (!d) return <div className="page"><p className="muted">Loading…</p></div>;

  const failure = d.failure;
  return (
    <div className="page execution-page" data-testid="execution-page" data-status={d.status} data-run-id={d.runId} data-older={shown.older}>
      <div className="page-header">
        <div>
          <p className="crumbs"><Link to={paths.executions(namespace)}>Executions</Link> / <span className="muted">{namespace}</span></p>
          <h1 className="mono">{d.workflowId}</h1>
          <p className="meta">
            <StatusBadge status={d.status} finalState={d.finalState ?? (d.closedAt === undefined ? undefined : d.state.value)} />
            <span><Link to={paths.types(d.type)}>{d.type}</Link> <span className="mono muted" title={`version ${d.version}`} data-testid="version">@{shortVersion(d.version)}</span></span>
            <span title={new Date(d.startedAt).toISOString()}>started {formatTime(d.startedAt)} ({formatAgo(d.startedAt, now)})</span>
            <span>{d.closedAt ? `closed after ${formatDuration(d.closedAt - d.startedAt)}` : `running for ${formatDuration(now - d.startedAt)}`}</span>
            <span className="mono muted" title={`run id ${d.runId}`}>run {shortId(d.runId, 13)}</span>
            <span className="muted" data-testid="history-size" title={`${d.historyLength} events, ${d.historyBytes ?? 0} characters of JSON`}>
              history {d.historyLength} events · {formatBytes(d.historyBytes)}
            </span>
            {d.parent ? <ParentLink parent={d.parent} /> : null}
          </p>
        </div>
      </div>
      {shown.older && shown.current ? <OlderRunBanner namespace={namespace} d={d} current={shown.current} /> : null}
      <ErrorNote error={shown.error} />
      {d.status === 'blocked' && d.blockedReason ? <div className="error-note">Blocked: {d.blockedReason}</div> : null}

      <div className="execution-grid">
        <div className="main-column">
          <Panel title="State" testId="state-panel"
            actions={<span className="current-state" data-testid="current-state">{stateText(d.state.value)}</span>}>
            {graph ? (
              <Statechart graph={graph} active={active} path={summary} closed={!running || selectedSeq !== null}
                runningInvokes={selectedSeq === null ? runningInvokes : undefined}
                caption={selectedSeq !== null ? `as it was after event #${selectedSeq}` : undefined} />
            ) : types.data ? (
              <p className="muted">This server does not have the machine of version {d.version}: no diagram. The state is {JSON.stringify(d.state.value)}.</p>
            ) : <p className="muted">Loading the machine…</p>}
          </Panel>
          <Panel title={`History${history ? ` (${history.length})` : ''}`}>
            {history ? <HistoryTimeline events={history} stateAfter={stateAfter} selectedSeq={selectedSeq} onSelect={setSelectedSeq} linkOf={(e) => childLink(namespace, e)} /> : <p className="muted">Loading…</p>}
          </Panel>
        </div>
        <div className="side-column">
          <Panel title="Actions">
            {shown.older ? (
              <p className="muted" data-testid="actions-older">
                An older run takes no signal, update, cancel, terminate or reset: they go to the{' '}
                <Link to={paths.execution(namespace, workflowId)}>current run</Link>.
              </p>
            ) : <ActionsPanel namespace={namespace} workflowId={workflowId} accepts={accepts} running={running} onDone={shown.refresh} />}
          </Panel>
          {d.continuedFrom || d.continuedAs || runs.length > 1 ? (
            <Panel title={`Runs of this workflow id${runs.length > 1 ? ` (${runs.length})` : ''}`} testId="runs">
              <RunLineage namespace={namespace} d={d} runs={runs} currentRunId={shown.current?.runId} />
            </Panel>
          ) : null}
          {d.status === 'completed' || d.output !== undefined ? <Panel title="Output" testId="output"><JsonView value={d.output} /></Panel> : null}
          {failure ? <Panel title="Failure" testId="failure"><FailureChain failure={failure} /></Panel> : null}
          <Panel title="Context" testId="context"><JsonView value={d.state.context} /></Panel>
          {Object.keys(d.searchAttributes ?? {}).length ? (
            <Panel title="Search attributes" testId="search-attributes">
              <SearchAttributesTable values={d.searchAttributes!} types={findVersion(types.data?.types, d)?.searchAttributes} />
            </Panel>
          ) : null}
          {d.state.tags.length ? <Panel title="Tags"><p>{d.state.tags.map((t) => <span key={t} className="tag">{t}</span>)}</p></Panel> : null}
          <Panel title={`Pending activities (${d.pendingActivities?.length ?? 0})`} testId="pending-activities">
            {d.pendingActivities?.length ? (
              <table className="compact">
                <thead><tr><th>Activity</th><th>Attempt</th><th>Next / last</th></tr></thead>
                <tbody>
                  {d.pendingActivities.map((a) => {
                    const retry = retries.get(a.activityId);
                    return (
                      <tr key={a.activityId}>
                        <td><span className="mono">{a.activityType}</span><div className="muted small">{a.activityId}</div></td>
                        <td>{a.attempt}</td>
                        <td>
                          {retry && retry.at > now ? <div>retry in {formatDuration(retry.at - now)}</div> : null}
                          {a.lastFailure ? <div className="small failure-text" title={a.lastFailure.message}>{a.lastFailure.type ?? a.lastFailure.code}: {a.lastFailure.message}</div> : null}
                          {!retry && !a.lastFailure ? <span className="muted">in progress</span> : null}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            ) : <p className="muted">None.</p>}
          </Panel>
          {children.length || d.pendingChildren?.length ? (
            <Panel title="Child workflows" testId="child-workflows">
              <ChildWorkflows namespace={namespace} fromHistory={children} pending={d.pendingChildren ?? []} />
            </Panel>
          ) : null}
          <Panel title={`Timers (${d.pendingTimers?.length ?? 0})`} testId="pending-timers">
            {d.pendingTimers?.length ? (
              <table className="compact">
                <thead><tr><th>Timer</th><th>Due</th></tr></thead>
                <tbody>
                  {d.pendingTimers.map((t) => (
                    <tr key={t.timerId}>
                      <td className="mono small">{timerName(t.timerId)}</td>
                      <td title={new Date(t.dueAt).toISOString()}>{formatTime(t.dueAt)} <span className="muted">({formatAgo(t.dueAt, now)})</span></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : <p className="muted">None.</p>}
          </Panel>
          <Panel title="Input"><JsonView value={history ? inputOf(history) : undefined} /></Panel>
        </div>
      </div>
    </div>
  );
}

/**
 * History and path of the run described, read by its run id (a continue-as-new between the
 * describe and these reads cannot mix two runs), fetched again only when the history grew (the
 * description says how long it is). Long histories are fetched at most every few seconds: the
 * API returns them whole.
 */
function useRunData(namespace: string, workflowId: string, d: ExecutionDetail | undefined): { history?: HistoryEvent[]; path?: RunPath } {
  const runId = d?.runId;
  const key = `${namespace}\u0000${workflowId}\u0000${runId ?? ''}`;
  // Kept with the run they belong to: another run's history is never shown under this one's header.
  const [data, setData] = useState<{ key: string; history?: HistoryEvent[]; path?: RunPath }>({ key: '' });
  const fetched = useRef<{ key: string; length: number; at: number }>({ key: '', length: -1, at: 0 });
  const length = d?.historyLength ?? -2;
  const status = d?.status;
  const mine = data.key === key ? data : { key };

  useEffect(() => {
    if (!d) return;
    const last = fetched.current;
    if (last.key === key && last.length === length && length !== -2) return;
    const throttle = (mine.history?.length ?? 0) > 5000 && last.key === key ? 5000 : 0;
    const wait = Math.max(0, last.at + throttle - Date.now());
    const controller = new AbortController();
    const keep = (patch: { history?: HistoryEvent[]; path?: RunPath }) => setData((prev) => ({ ...(prev.key === key ? prev : { key }), ...patch }));
    const timer = setTimeout(() => {
      fetched.current = { key, length, at: Date.now() };
      void Promise.all([
        api.history(namespace, workflowId, runId, controller.signal).then((h) => keep({ history: h.events })),
        api.path(namespace, workflowId, runId, controller.signal).then((path) => keep({ path })).catch(() => undefined),
      ]).catch(() => {
        fetched.current = { key: '', length: -1, at: 0 };
      });
    }, wait);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // `status` too: the engine's describe may not say historyLength; a status change means new events.
  }, [key, length, status]); // eslint-disable-line react-hooks/exhaustive-deps

  return { history: mine.history, path: mine.path };
}

/** A child workflow's events link to its page. */
function childLink(namespace: string, e: HistoryEvent): string | undefined {
  if (e.kind === 'ChildWorkflowScheduled') return paths.execution(namespace, e.workflowId);
  if (e.kind === 'ChildWorkflowStarted' || e.kind === 'ChildWorkflowCompleted' || e.kind === 'ChildWorkflowFailed') return paths.execution(namespace, e.workflowId, e.runId);
  return undefined;
}

function findDefinition(types: WorkflowType[] | undefined, d: ExecutionDetail | undefined) {
  return findVersion(types, d)?.definition;
}

function findVersion(types: WorkflowType[] | undefined, d: ExecutionDetail | undefined) {
  if (!types || !d) return undefined;
  return types.find((t) => t.type === d.type)?.versions.find((v) => v.version === d.version);
}

function valueAt(path: RunPath | undefined, seq: number): unknown {
  let value: unknown;
  for (const s of path?.steps ?? []) {
    if (s.seq > seq) break;
    value = s.value;
  }
  return value;
}

export function FailureChain({ failure }: { failure: FailureInfo }) {
  const chain = causeChain(failure);
  return (
    <ol className="cause-chain" data-testid="cause-chain">
      {chain.map((f, i) => (
        <li key={i}>
          <div><strong>{f.type ?? f.code}</strong>{f.type ? <span className="muted"> ({f.code})</span> : null}{i > 0 ? <span className="muted"> — cause</span> : null}</div>
          <div className="failure-text">{f.message}</div>
          <div className="muted small">
            {[f.activityType && `activity ${f.activityType}`, f.retryState && `retry: ${f.retryState}`, f.timeoutType && `timeout: ${f.timeoutType}`, f.nonRetryable && 'non-retryable']
              .filter(Boolean).join(' · ')}
          </div>
          {f.details?.length ? <JsonView value={f.details} maxHeight={120} /> : null}
          {f.stack ? <details><summary className="muted small">stack</summary><pre className="stack">{f.stack}</pre></details> : null}
        </li>
      ))}
    </ol>
  );
}
