import { useEffect, useMemo, useState } from 'react';
import { api, type ExecutionStatus, type ExecutionSummary } from '../api.ts';
import { ErrorNote } from '../components/panel.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatAgo, formatDuration, formatTime, shortId } from '../format.ts';
import { useNow, usePoll } from '../hooks.ts';
import { Link, navigate, paths } from '../router.tsx';

const STATUSES: ExecutionStatus[] = ['running', 'completed', 'failed', 'canceled', 'terminated', 'blocked'];
const PAGE_SIZE = 50;
/** How many pages a time-range or text filter may read to fill one page of matches. */
const MAX_SCAN_PAGES = 20;

interface Filters {
  type: string;
  status: string;
  q: string;
  from: string;
  to: string;
}

/**
 * Executions, newest first. Type and status are filtered by the server (an index per filter, so
 * a page costs the same with 100,000 stored); the time range and the text search are applied
 * here to the pages read, reading on (up to MAX_SCAN_PAGES) until a page is full. A search that
 * is a whole workflow id also finds that execution directly. The first page refreshes itself.
 */
export function ExecutionsPage({ namespace, query }: { namespace: string; query: URLSearchParams }) {
  const filters: Filters = { type: query.get('type') ?? '', status: query.get('status') ?? '', q: query.get('q') ?? '', from: query.get('from') ?? '', to: query.get('to') ?? '' };
  const [tokens, setTokens] = useState<(string | null)[]>([null]);
  const [live, setLive] = useState(true);
  const now = useNow();
  const key = JSON.stringify([namespace, filters]);
  useEffect(() => setTokens([null]), [key]);
  const pageToken = tokens[tokens.length - 1] ?? null;
  const onFirstPage = tokens.length === 1;

  const types = usePoll((signal) => api.types(signal), [], 0);
  const clientSide = filters.q !== '' || filters.from !== '' || filters.to !== '';
  const page = usePoll(async (signal) => {
    const from = filters.from ? Date.parse(filters.from) : -Infinity;
    const to = filters.to ? Date.parse(filters.to) : Infinity;
    const q = filters.q.trim().toLowerCase();
    const rows: ExecutionSummary[] = [];
    let token = pageToken;
    let scanned = 0;
    let pages = 0;
    let exhausted = false;
    // Newest first: once a row is older than `from`, nothing after it can match.
    do {
      const p = await api.list(namespace, { type: filters.type || undefined, status: filters.status || undefined, pageToken: token, limit: clientSide ? 200 : PAGE_SIZE }, signal);
      pages++;
      scanned += p.executions.length;
      for (const e of p.executions) {
        if (e.startedAt < from) {
          exhausted = true;
          break;
        }
        if (e.startedAt > to) continue;
        if (q && !e.workflowId.toLowerCase().includes(q) && !e.runId.startsWith(q) && !e.type.toLowerCase().includes(q)) continue;
        rows.push(e);
      }
      token = p.nextPageToken;
      if (!token) exhausted = true;
    } while (clientSide && !exhausted && rows.length < PAGE_SIZE && pages < MAX_SCAN_PAGES);
    let exact: ExecutionSummary | undefined;
    if (q && filters.q.trim() !== '' && !rows.some((r) => r.workflowId === filters.q.trim())) {
      exact = await api.describe(namespace, filters.q.trim(), signal).catch(() => undefined);
    }
    return { rows, next: exhausted ? null : token, scanned, exact };
  }, [key, pageToken], live && onFirstPage ? 2000 : 0);

  const set = (patch: Partial<Filters>) => {
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filters, ...patch })) if (v) next.set(k, v);
    navigate(paths.executions(namespace, next), { replace: true });
  };
  const typeNames = useMemo(() => types.data?.types.map((t) => t.type) ?? [], [types.data]);
  const data = page.data;

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
        <input type="search" data-testid="search" placeholder="search workflow id, run id or type" defaultValue={filters.q}
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
        {Object.values(filters).some(Boolean) ? <button type="button" className="link" onClick={() => navigate(paths.executions(namespace), { replace: true })}>clear</button> : null}
      </form>
      <ErrorNote error={page.error} />
      {data?.exact ? (
        <div className="exact-hit">Exact match: <Link to={paths.execution(namespace, data.exact.workflowId)}>{data.exact.workflowId}</Link> <StatusBadge status={data.exact.status} /></div>
      ) : null}
      <table className="executions" data-testid="executions-table">
        <thead>
          <tr><th>Workflow id</th><th>Type</th><th>Status</th><th>Started</th><th>Duration</th><th>Run</th></tr>
        </thead>
        <tbody>
          {data?.rows.map((e) => (
            <tr key={e.runId} data-testid="execution-row" data-workflow-id={e.workflowId} onClick={() => navigate(paths.execution(namespace, e.workflowId))}>
              <td><Link to={paths.execution(namespace, e.workflowId)} onClick={(ev) => ev.stopPropagation()}>{e.workflowId}</Link></td>
              <td>{e.type} <span className="muted mono">{shortId(e.version, 6)}</span></td>
              <td><StatusBadge status={e.status} /></td>
              <td title={new Date(e.startedAt).toISOString()}>{formatTime(e.startedAt)} <span className="muted">{formatAgo(e.startedAt, now)}</span></td>
              <td>{formatDuration((e.closedAt ?? now) - e.startedAt)}{e.closedAt ? '' : ' …'}</td>
              <td className="mono muted">{shortId(e.runId)}</td>
            </tr>
          ))}
          {data && data.rows.length === 0 ? (
            <tr><td colSpan={6} className="empty">No executions{Object.values(filters).some(Boolean) ? ' match these filters' : ' yet'}{clientSide ? ` (${data.scanned} read)` : ''}.</td></tr>
          ) : null}
          {!data && page.loading ? <tr><td colSpan={6} className="empty">Loading…</td></tr> : null}
        </tbody>
      </table>
      <div className="pager">
        <button type="button" disabled={onFirstPage} onClick={() => setTokens(tokens.slice(0, -1))}>← Newer</button>
        <span className="muted">page {tokens.length}{clientSide && data ? ` · ${data.scanned} executions read` : ''}</span>
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
