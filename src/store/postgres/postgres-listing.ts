import type { Pool } from 'pg';
import type { SearchAttributes } from '../../common/search-attributes.ts';
import { crc32 } from '../checksum.ts';
import { pageLimit } from '../level-listing.ts';
import { planListing } from '../listing-plan.ts';
import type { CountRunsResult, ListRunsPage, ListRunsQuery } from '../store.ts';
import type { RunSummary } from '../../common/execution-types.ts';
import { decodePageToken, encodePageToken, foreignPageToken } from './page-token.ts';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
/** Rows `countRuns` counts at most; beyond, the count is a lower bound (`capped: true`), as on LevelDB. */
const COUNT_CAP = 1_000_000;

/**
 * Visibility on PostgreSQL: one parameterised SELECT of the `runs` table per page, newest first
 * (`started_at DESC, run_id`), on the index of the narrowest of status and type, an exact
 * search-attribute match answered by the GIN index (`@>`), ranges and the other filters checked
 * by PostgreSQL on each row. Queries are checked by the same code as LevelDB's (`planListing`),
 * so both refuse the same queries with the same messages.
 *
 * A page token is the position of the page's last row plus a fingerprint of the listing
 * (namespace, status, type): a token continues exactly after that row even if runs were added
 * in between, and a token of another listing is refused, as on LevelDB.
 *
 * @example
 * const page = await listRunsOn(pool, { namespace: 'default', status: 'running', limit: 50 });
 */
export async function listRunsOn(pool: Pool, query: ListRunsQuery): Promise<ListRunsPage> {
  planListing(query, 'listRuns'); // checks the query exactly as LevelDB does
  const limit = pageLimit(query.limit ?? DEFAULT_PAGE, MAX_PAGE);
  const where = whereOf(query);
  if (query.pageToken !== undefined) {
    const after = parseToken(query.pageToken, fingerprintOf(query));
    where.add('(started_at < $ OR (started_at = $ AND run_id > $))', after.startedAt, after.startedAt, after.runId);
  }
  const { rows } = await pool.query<Row>(
    `SELECT run_id, workflow_id, type, version, status, started_at, closed_at, search_attributes
       FROM runs WHERE ${where.sql()} ORDER BY started_at DESC, run_id LIMIT ${where.param(limit + 1)}`,
    where.values,
  );
  const runs = rows.slice(0, limit).map(summaryOf);
  const last = runs[runs.length - 1];
  return rows.length > limit && last ? { runs, nextPageToken: tokenOf(fingerprintOf(query), last) } : { runs };
}

/** How many runs match the filters of a listing, counting at most COUNT_CAP. */
export async function countRunsOn(pool: Pool, query: ListRunsQuery): Promise<CountRunsResult> {
  planListing(query, 'countRuns');
  const where = whereOf(query);
  const { rows } = await pool.query<{ count: string }>(
    `SELECT count(*) AS count FROM (SELECT 1 FROM runs WHERE ${where.sql()} LIMIT ${where.param(COUNT_CAP + 1)}) AS matching`,
    where.values,
  );
  const count = Number(rows[0]!.count);
  return count > COUNT_CAP ? { count: COUNT_CAP, capped: true } : { count };
}

interface Row {
  run_id: string; workflow_id: string; type: string; version: string; status: RunSummary['status'];
  started_at: string; closed_at: string | null; search_attributes: SearchAttributes | null;
}

function summaryOf(row: Row): RunSummary {
  const summary: RunSummary = {
    runId: row.run_id, workflowId: row.workflow_id, type: row.type, version: row.version, status: row.status, startedAt: Number(row.started_at),
  };
  if (row.closed_at !== null) summary.closedAt = Number(row.closed_at);
  if (row.search_attributes) summary.searchAttributes = row.search_attributes;
  return summary;
}

/** A WHERE clause and its parameters, built together so that every value is a parameter. */
class Where {
  readonly values: unknown[] = [];
  private readonly parts: string[] = [];

  /** Adds a condition; each `$` in it takes the next of `values`. */
  add(condition: string, ...values: unknown[]): void {
    let i = 0;
    this.parts.push(condition.replace(/\$/g, () => this.param(values[i++])));
  }

  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  sql(): string {
    return this.parts.join(' AND ');
  }
}

function whereOf(query: ListRunsQuery): Where {
  const where = new Where();
  where.add('namespace = $', query.namespace);
  if (query.status !== undefined) where.add('status = $', query.status);
  if (query.type !== undefined) where.add('type = $', query.type);
  if (query.startedAfter !== undefined) where.add('started_at >= $', Math.ceil(query.startedAfter));
  // A run closes after it starts, so "closed before T" bounds the start too (and the index range).
  const startedBefore = Math.min(query.startedBefore ?? Infinity, query.closedBefore ?? Infinity);
  if (startedBefore !== Infinity) where.add('started_at < $', Math.ceil(startedBefore));
  if (query.closedAfter !== undefined) where.add('closed_at >= $', Math.ceil(query.closedAfter));
  if (query.closedBefore !== undefined) where.add('closed_at < $', Math.ceil(query.closedBefore));
  if (query.workflowIdPrefix) where.add('starts_with(workflow_id, $)', query.workflowIdPrefix);
  const exact: Record<string, unknown> = {};
  for (const [name, filter] of Object.entries(query.searchAttributes ?? {})) {
    if (typeof filter !== 'object' || filter === null) {
      exact[name] = filter;
      continue;
    }
    // A range bounds numbers only: a run whose attribute is not a number never matches.
    const value = "(CASE WHEN jsonb_typeof(search_attributes -> $) = 'number' THEN (search_attributes ->> $)::float8 END)";
    const bounds = filter as { gte?: number; gt?: number; lte?: number; lt?: number };
    if (bounds.gte !== undefined) where.add(`${value} >= $`, name, name, bounds.gte);
    if (bounds.gt !== undefined) where.add(`${value} > $`, name, name, bounds.gt);
    if (bounds.lte !== undefined) where.add(`${value} <= $`, name, name, bounds.lte);
    if (bounds.lt !== undefined) where.add(`${value} < $`, name, name, bounds.lt);
  }
  // jsonb containment compares typed values: "40" never matches 40, and -0 is written as 0.
  if (Object.keys(exact).length > 0) where.add('search_attributes @> $::jsonb', JSON.stringify(exact));
  return where;
}

function fingerprintOf(query: ListRunsQuery): number {
  return crc32(Buffer.from(JSON.stringify([query.namespace, query.status ?? null, query.type ?? null]), 'utf8'));
}

function tokenOf(fingerprint: number, last: RunSummary): string {
  return encodePageToken([fingerprint, last.startedAt, last.runId]);
}

function parseToken(token: string, fingerprint: number): { startedAt: number; runId: string } {
  const [f, startedAt, runId] = decodePageToken(token);
  if (f !== fingerprint || typeof startedAt !== 'number' || typeof runId !== 'string') throw foreignPageToken();
  return { startedAt, runId };
}
