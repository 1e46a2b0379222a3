import { api } from '../api.ts';
import { JsonView } from '../components/json-view.tsx';
import { ErrorNote, Panel } from '../components/panel.tsx';
import { ScheduleActions } from '../components/schedule-actions.tsx';
import { ScheduleStateBadge } from '../components/schedule-state.tsx';
import { formatAgo, formatTime, shortId } from '../format.ts';
import { useNow, usePoll } from '../hooks.ts';
import { durationText, specText } from '../lib/schedule-view.ts';
import { Link, navigate, paths } from '../router.tsx';

const POLL_MS = 2000;

/**
 * One schedule: its spec and policies, its next times, the workflows its recent actions started
 * (each a link to its execution), its counts and last failure, and the actions a person can take.
 */
export function SchedulePage({ namespace, scheduleId }: { namespace: string; scheduleId: string }) {
  const described = usePoll((signal) => api.schedules.describe(namespace, scheduleId, signal), [namespace, scheduleId], POLL_MS);
  const now = useNow();
  const s = described.data;
  const back = <Link to={paths.schedules(namespace)}>Schedules</Link>;

  if (described.error && !s) {
    return <div className="page"><p>{back}</p><ErrorNote error={described.error} /></div>;
  }
  if (!s) return <div className="page"><p className="muted">Loading…</p></div>;

  const recent = [...s.state.recentActions].reverse();
  return (
    <div className="page" data-testid="schedule-page" data-paused={s.state.paused}>
      <div className="page-header">
        <div>
          <p className="crumbs">{back} / <span className="muted">{namespace}</span></p>
          <h1 className="mono">{s.scheduleId}</h1>
          <p className="meta">
            <ScheduleStateBadge paused={s.state.paused} note={s.state.note} />
            <span>starts <Link to={paths.types(s.action.workflowType)}>{s.action.workflowType}</Link></span>
            <span className="mono" data-testid="schedule-spec">{specText(s.spec)}</span>
            {!s.state.paused && s.state.nextActionAt !== undefined ? (
              <span title={new Date(s.state.nextActionAt).toISOString()}>next {formatTime(s.state.nextActionAt)} ({formatAgo(s.state.nextActionAt, now)})</span>
            ) : null}
            <span className="muted" title={new Date(s.createdAt).toISOString()}>created {formatAgo(s.createdAt, now)}</span>
          </p>
        </div>
      </div>
      <ErrorNote error={described.error} />
      {s.state.paused && s.state.note ? <div className="info-note" data-testid="pause-note-shown">Paused: {s.state.note}</div> : null}

      <div className="execution-grid">
        <div className="main-column">
          <Panel title={`Recent actions (${recent.length})`} testId="recent-actions">
            {recent.length ? (
              <table className="compact">
                <thead><tr><th>Workflow</th><th>Nominal time</th><th>Started</th></tr></thead>
                <tbody>
                  {recent.map((a) => (
                    <tr key={a.runId} data-testid="recent-action" data-workflow-id={a.workflowId}>
                      <td>
                        <Link to={paths.execution(namespace, a.workflowId, a.runId)} className="mono" data-testid="recent-action-link">{a.workflowId}</Link>
                        <span className="muted small mono"> run {shortId(a.runId)}</span>
                        {a.triggered ? <span className="tag">triggered</span> : null}
                      </td>
                      <td title={new Date(a.nominalTime).toISOString()}>{formatTime(a.nominalTime)}</td>
                      <td title={new Date(a.actualTime).toISOString()}>{formatAgo(a.actualTime, now)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : <p className="muted">No action taken yet.</p>}
            <p className="muted small">
              The last 10 actions. <Link to={paths.executions(namespace, new URLSearchParams({ q: `${s.action.workflowIdPrefix}-` }))}>Every workflow it started</Link> has
              an id starting with “{s.action.workflowIdPrefix}-”.
            </p>
          </Panel>
          <Panel title="Upcoming" testId="upcoming">
            {s.state.paused ? <p className="muted">Paused: nothing is taken until it is resumed.</p> : null}
            {s.futureActionTimes.length ? (
              <ol className="times">
                {s.futureActionTimes.map((t) => <li key={t} title={new Date(t).toISOString()}>{formatTime(t)} <span className="muted">({formatAgo(t, now)})</span></li>)}
              </ol>
            ) : <p className="muted">The spec names no more times.</p>}
            {s.state.bufferedAt !== undefined ? <p className="small">One action of {formatTime(s.state.bufferedAt)} waits for the open workflow to close.</p> : null}
          </Panel>
        </div>
        <div className="side-column">
          <Panel title="Actions">
            <ScheduleActions namespace={namespace} scheduleId={scheduleId} paused={s.state.paused} onDone={described.refresh}
              onDeleted={() => navigate(paths.schedules(namespace))} />
          </Panel>
          <Panel title="Counts" testId="schedule-counts">
            <dl className="facts">
              <dt>taken</dt><dd data-testid="count-taken">{s.state.counts.taken}</dd>
              <dt>skipped</dt><dd>{s.state.counts.skipped} <span className="muted small">(overlap)</span></dd>
              <dt>missed</dt><dd>{s.state.counts.missed} <span className="muted small">(past the catch-up window)</span></dd>
              <dt>failed</dt><dd>{s.state.counts.failed}</dd>
            </dl>
          </Panel>
          {s.state.lastFailure ? (
            <Panel title="Last failure" testId="schedule-failure">
              <div><strong>{s.state.lastFailure.code}</strong> <span className="muted small">at {formatTime(s.state.lastFailure.at)}</span></div>
              <div className="failure-text">{s.state.lastFailure.message}</div>
            </Panel>
          ) : null}
          <Panel title="Spec and policies">
            <dl className="facts">
              {s.spec.cron?.length ? <><dt>cron</dt><dd className="mono">{s.spec.cron.join(' | ')}</dd></> : null}
              {s.spec.interval ? <><dt>every</dt><dd className="mono">{durationText(s.spec.interval.every)}{s.spec.interval.offset ? ` + ${durationText(s.spec.interval.offset)}` : ''}</dd></> : null}
              <dt>time zone</dt><dd>{s.spec.timezone}</dd>
              <dt>overlap</dt><dd>{s.policies.overlap}</dd>
              <dt>catch-up window</dt><dd>{durationText(s.policies.catchupWindow)}</dd>
              <dt>workflow ids</dt><dd className="mono small">{s.action.workflowIdPrefix}-&lt;time&gt;</dd>
            </dl>
          </Panel>
          <Panel title="Input"><JsonView value={s.action.input} /></Panel>
        </div>
      </div>
    </div>
  );
}
