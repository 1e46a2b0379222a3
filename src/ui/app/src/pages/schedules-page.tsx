import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote } from '../components/panel.tsx';
import { ScheduleForm } from '../components/schedule-form.tsx';
import { ScheduleStateBadge } from '../components/schedule-state.tsx';
import { formatAgo, formatTime } from '../format.ts';
import { useNow, usePoll } from '../hooks.ts';
import { countsText, specText } from '../lib/schedule-view.ts';
import { Link, navigate, paths } from '../router.tsx';

/** How often the first page is read again: next action times and counts move on their own. */
const POLL_MS = 2000;

/**
 * The schedules of a namespace: when each acts, when next, whether it is paused, what it has
 * done (counts and the last workflow it started). A row opens the schedule's page, where it is
 * paused, resumed, triggered or deleted. A new one can be created here.
 */
export function SchedulesPage({ namespace }: { namespace: string }) {
  const [tokens, setTokens] = useState<(string | null)[]>([null]);
  const [creating, setCreating] = useState(false);
  const now = useNow();
  const pageToken = tokens[tokens.length - 1] ?? null;
  const page = usePoll((signal) => api.schedules.list(namespace, pageToken, signal), [namespace, pageToken], tokens.length === 1 ? POLL_MS : 0);
  const list = page.data?.schedules ?? [];

  return (
    <div className="page" data-testid="schedules-page">
      <div className="page-header">
        <h1>Schedules <span className="muted small">in {namespace}</span></h1>
        {creating ? null : <button type="button" className="primary" onClick={() => setCreating(true)} data-testid="new-schedule">New schedule…</button>}
      </div>
      {creating ? (
        <ScheduleForm namespace={namespace} onCancel={() => setCreating(false)} onCreated={(id) => navigate(paths.schedule(namespace, id))} />
      ) : null}
      <ErrorNote error={page.error} />
      <table className="schedules" data-testid="schedules-table">
        <thead>
          <tr><th>Schedule</th><th>Workflow type</th><th>Spec</th><th>Next action</th><th>State</th><th>Actions</th><th>Last started</th></tr>
        </thead>
        <tbody>
          {list.map((s) => (
            <tr key={s.scheduleId} data-testid="schedule-row" data-schedule-id={s.scheduleId} onClick={() => navigate(paths.schedule(namespace, s.scheduleId))}>
              <td><Link to={paths.schedule(namespace, s.scheduleId)} onClick={(ev) => ev.stopPropagation()}>{s.scheduleId}</Link></td>
              <td>{s.workflowType}</td>
              <td className="mono small" data-testid="schedule-spec">{specText(s.spec)}</td>
              <td data-testid="schedule-next">
                {s.paused ? <span className="muted">— (paused)</span> : s.nextActionAt !== undefined ? (
                  <span title={new Date(s.nextActionAt).toISOString()}>{formatTime(s.nextActionAt)} <span className="muted">{formatAgo(s.nextActionAt, now)}</span></span>
                ) : <span className="muted">no more times</span>}
              </td>
              <td><ScheduleStateBadge paused={s.paused} note={s.note} />{s.paused && s.note ? <div className="muted small">{s.note}</div> : null}</td>
              <td className="small" data-testid="schedule-counts">{countsText(s.counts)}</td>
              <td>
                {s.lastAction ? (
                  <>
                    <Link to={paths.execution(namespace, s.lastAction.workflowId, s.lastAction.runId)} onClick={(ev) => ev.stopPropagation()} className="mono small" data-testid="last-action-link">
                      {s.lastAction.workflowId}
                    </Link>
                    <div className="muted small">{formatAgo(s.lastAction.actualTime, now)}{s.lastAction.triggered ? ' · triggered' : ''}</div>
                  </>
                ) : <span className="muted">none yet</span>}
              </td>
            </tr>
          ))}
          {page.data && list.length === 0 ? (
            <tr><td colSpan={7} className="empty">No schedules in {namespace}. Create one here, with <code>perdure schedule create</code>, or <code>POST /api/v1/namespaces/{namespace}/schedules</code>.</td></tr>
          ) : null}
          {!page.data && page.loading ? <tr><td colSpan={7} className="empty">Loading…</td></tr> : null}
        </tbody>
      </table>
      {tokens.length > 1 || page.data?.nextPageToken ? (
        <div className="pager">
          <button type="button" disabled={tokens.length === 1} onClick={() => setTokens(tokens.slice(0, -1))}>← Previous</button>
          <span className="muted">page {tokens.length}</span>
          <button type="button" disabled={!page.data?.nextPageToken} onClick={() => page.data?.nextPageToken && setTokens([...tokens, page.data.nextPageToken])}>Next →</button>
        </div>
      ) : null}
    </div>
  );
}
