import { useEffect, useMemo, useState } from 'react';
import { api, type ExecutionStatus, type ExecutionSummary, type ListFilters } from '../api.ts';
import { ErrorNote } from '../components/panel.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { attributesInline } from '../components/search-attributes.tsx';
import { formatAgo, formatDuration, formatTime, shortId, shortVersion } from '../format.ts';
import { useNow, usePoll } from '../hooks.ts';
import { Link, navigate, paths } from '../router.tsx';

const STATUSES: ExecutionStatus[] = ['running', 'completed', 'failed', 'canceled', 'terminated', 'continuedAsNew', 'blocked'];
const PAGE_SIZE = 50;
/**
 * How many requests one page may take. A workflow id prefix is checked by the server while it
 * scans (a bounded scan per request), so a sparse prefix can answer a short page with a token
 * to continue; the page follows a few of those before showing what it has.
 */
const MAX_REQUESTS_PER_PAGE = 5;

interface Filters {
  type: string;
  status: string;
  q: string;
  from: string;
  to: string;
  /** Search-attribute filters, space-separated expressions: `customerId=c-1 amount>=10`. */
  attr: string;
}

/**
 * Executions, newest first. Every filter is applied by the server: type and status pick an
 * index, the start-time range is a key range on it, and the search is a workflow id prefix
 * (issue 4, visibility); search attributes are filtered by expressions (`customerId=c-1
 * amount>=10`, as the CLI's --attr takes them). A search that is a whole workflow id also finds that execution
 * directly. The first page refreshes itself; the count of matches is read when filters change.
 */
export function ExecutionsPage({ namespace, query }: { namespace: string; query: URLSearchParams }) {
  const filters: Filters = {
    type: query.get('type') ?? '', status: query.get('status') ?? '', q: query.get('q') ?? '', from: query.get('from') ?? '', to: query.get('to') ?? '',
    attr: query.get('attr') ?? '',
  };
  const [tokens, setTokens] = useState<(string | null)[]>([null]);
  const [live, setLive] = useState(true);
  const now = useNow();
  const key = JSON.stringify([namespace, filters]);
  useEffect(() => setTokens([null]), [key]);
  const pageToken = tokens[tokens.length - 1] ?? null;
  const onFirstPage = tokens.length === 1;

  const types = usePoll((signal) => api.types(signal), [], 0);
  const serverFilters: ListFilters = {
    type: filters.type || undefined,
    status: filters.status || undefined,
    workflowIdPrefix: filters.q.trim() || undefined,
    startedAfter: timeOf(filters.from),
    startedBefore: timeOf(filters.to),
    attr: filters.attr.trim() ? filters.attr.trim().split(/\s+/) : undefined,
  };
  const count = usePoll((signal) => api.count(namespace, serverFilters, signal), [key], live && onFirstPage ? 10_000 : 0);
  const page = usePoll(async (signal) => {
    const rows: ExecutionSummary[] = [];
    let token = pageToken;
    let requests = 0;
    do {
      const p = await api.list(namespace, { ...serverFilters, pageToken: token, limit: PAGE_SIZE - rows.length }, signal);
      requests++;
      rows.push(...p.executions);
      token = p.nextPageToken;
    } while (token && rows.length < PAGE_SIZE && requests < MAX_REQUESTS_PER_PAGE);
    const q = filters.q.trim();
    let exact: ExecutionSummary | undefined;
    if (q !== '' && !rows.some((r) => r.workflowId === q)) {
      exact = await api.describe(namespace, q, undefined, signal).catch(() => undefined);
    }
    return { rows, next: token, exact };
  }, [key, pageToken], live && onFirstPage ? 2000 : 0);

  const set = (patch: Partial<Filters>) => {
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filters, ...patch })) if (v) next.set(k, v);
    navigate(paths.executions(namespace, next), { replace: true });
  };
  const typeNames = useMemo(() => types.data?.types.map((t) => t.type) ?? [], [types.data]);
  const data = page.data;
  // A run that continued as new is not its workflow id's current run: the link says which run it meant.
  const runLink = (e: ExecutionSummary) => paths.execution(namespace, e.workflowId, e.status === 'continuedAsNew' ? e.runId : undefined);
  const withAttributes = data?.rows.some((e) => Object.keys(e.searchAttributes ?? {}).length > 0) ?? false;

  return (
    <div className="page" data-testid="executions-page">
      <div className="page-header">
        <h1>Executions <span className="muted small">in {namespace}</span></h1>
        <label className="live-toggle" title="Refresh the first page every 2 seconds">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> live
          {live && onFirstPage ? <span className="pulse" /> : null}
        </label>
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <input type="search" data-testid="search" placeholder="workflow id starts with…" defaultValue={filters.q}
          onChange={(e) => debounce(() => set({ q: e.target.value }))} aria-label="search" />
        <select value={filters.type} onChange={(e) => set({ type: e.target.value })} aria-label="workflow type" data-testid="filter-type">
          <option value="">all types</option>
          {typeNames.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
        <select value={filters.status} onChange={(e) => set({ status: e.target.value })} aria-label="status" data-testid="filter-status">
          <option value="">any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <label className="inline">started after <input type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.target.value })} /></label>
        <label className="inline">before <input type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.target.value })} /></label>
        <input type="search" data-testid="filter-attr" placeholder="attributes: customerId=c-1 amount>=10" defaultValue={filters.attr}
          title="Search attribute filters, separated by spaces: name=value, or name>=value, name<value… for a number or datetime"
          onChange={(e) => debounce(() => set({ attr: e.target.value }))} aria-label="search attributes" />
        {Object.values(filters).some(Boolean) ? <button type="button" className="link" onClick={() => navigate(paths.executions(namespace), { replace: true })}>clear</button> : null}
      </form>
      <ErrorNote error={page.error} />
      {data?.exact ? (
        <div className="exact-hit">Exact match: <Link to={paths.execution(namespace, data.exact.workflowId)}>{data.exact.workflowId}</Link> <StatusBadge status={data.exact.status} finalState={data.exact.finalState} /></div>
      ) : null}
      <table className="executions" data-testid="executions-table">
        <thead>
          <tr><th>Workflow id</th><th>Type</th><th>Status</th><th>Started</th><th>Duration</th><th>Run</th>{withAttributes ? <th>Attributes</th> : null}</tr>
        </thead>
        <tbody>
          {data?.rows.map((e) => (
            <tr key={e.runId} data-testid="execution-row" data-workflow-id={e.workflowId} data-run-id={e.runId} onClick={() => navigate(runLink(e))}>
              <td><Link to={runLink(e)} onClick={(ev) => ev.stopPropagation()}>{e.workflowId}</Link></td>
              <td>{e.type} <span className="muted mono" title={`version ${e.version}`} data-testid="version">@{shortVersion(e.version)}</span></td>
              <td><StatusBadge status={e.status} finalState={e.finalState} /></td>
              <td title={new Date(e.startedAt).toISOString()}>{formatTime(e.startedAt)} <span className="muted">{formatAgo(e.startedAt, now)}</span></td>
              <td>{formatDuration((e.closedAt ?? now) - e.startedAt)}{e.closedAt ? '' : ' …'}</td>
              <td className="mono muted">{shortId(e.runId)}</td>
              {withAttributes ? <td className="mono small" data-testid="row-attributes">{attributesInline(e.searchAttributes)}</td> : null}
            </tr>
          ))}
          {data && data.rows.length === 0 ? (
            <tr><td colSpan={6} className="empty">No executions{Object.values(filters).some(Boolean) ? ' match these filters' : ' yet'}.</td></tr>
          ) : null}
          {!data && page.loading ? <tr><td colSpan={6} className="empty">Loading…</td></tr> : null}
        </tbody>
      </table>
      <div className="pager">
        <button type="button" disabled={onFirstPage} onClick={() => setTokens(tokens.slice(0, -1))}>← Newer</button>
        <span className="muted" data-testid="match-count">page {tokens.length}{count.data ? ` · ${count.data.capped ? 'over ' : ''}${count.data.count.toLocaleString()} ${Object.values(filters).some(Boolean) ? 'matching' : 'in all'}` : ''}</span>
        <button type="button" disabled={!data?.next} onClick={() => data?.next && setTokens([...tokens, data.next])} data-testid="next-page">Older →</button>
      </div>
    </div>
  );
}

let debounceTimer: ReturnType<typeof setTimeout> | undefined;
function debounce(fn: () => void, ms = 300): void {
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(fn, ms);
}

/** A `datetime-local` value (local time) as ms since epoch; undefined when empty or unreadable. */
function timeOf(value: string): number | undefined {
  const ms = value ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}
