import { InvalidArgumentError } from '../common/errors.ts';
import { attributeFilters } from './attribute-filters.ts';
import { keys } from './keys.ts';
import type { ListRunsPage, ListRunsQuery } from './store.ts';
import type { RunSummary } from '../common/execution-types.ts';

/**
 * How `LevelStore` answers a listing query: which index range it reads (status/type pick the
 * index, the start-time window bounds the range) and which filters it checks on each row
 * (close time, workflow id prefix). An exact match on a search attribute takes the place of
 * status and type as the index (see `AttributeFilters.index`); they are then checked on each row,
 * as are search-attribute ranges. Pure: no I/O, so it is unit-testable on its own.
 *
 * @example
 * const plan = planListing({ namespace: 'default', status: 'completed', startedAfter: t0 }, 'listRuns');
 * db.iterator(continueRange(plan, query.pageToken));
 */

/** What a listing reads: the index range, and the filters checked on each row (if any). */
export interface ListingPlan {
  prefix: string;
  range: { gte: string; lt: string };
  filter?: (summary: RunSummary) => boolean;
  /**
   * Set when the index read holds keys only (a search attribute's): the row of each key is at
   * `prefix` + the key from `tailAt` on (its `<newest>/<runId>` tail).
   */
  rowsAt?: { prefix: string; tailAt: number };
  /**
   * With a range on a number or datetime attribute (and no exact match to read instead): the
   * part of that attribute's value index the range covers. A store may read it instead of
   * `range` when it holds few keys — all of them, sorted into newest-first order — and fall back
   * to scanning `range` when it holds many (then the range is broad, and matches are dense).
   * Each key maps to the key it has in `prefix` (`prefix` + its tail from `tailAt` on), so the
   * start window and page tokens are the same in both ways of reading.
   */
  byValue?: {
    range: { gte: string; lt: string };
    tailAt: number;
    /** Every check but the range itself (the key range answers it); status and type included. */
    filter?: (summary: RunSummary) => boolean;
  };
}

export function planListing(query: ListRunsQuery, op: string): ListingPlan {
  if (!query || typeof query.namespace !== 'string') throw new InvalidArgumentError(`${op} needs a namespace.`);
  const { startedAfter, closedAfter, closedBefore, workflowIdPrefix } = query;
  for (const name of ['startedAfter', 'startedBefore', 'closedAfter', 'closedBefore'] as const) {
    const value = query[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new InvalidArgumentError(`${op}: ${name} must be a time in ms since epoch, got ${JSON.stringify(value)}.`);
    }
  }
  if (workflowIdPrefix !== undefined && typeof workflowIdPrefix !== 'string') {
    throw new InvalidArgumentError(`${op}: workflowIdPrefix must be a string, got ${JSON.stringify(workflowIdPrefix)}.`);
  }
  // A run closes after it starts, so "closed before T" only looks at runs started before T.
  const startedBefore = closedBefore === undefined ? query.startedBefore : Math.min(closedBefore, query.startedBefore ?? Infinity);
  const attributes = attributeFilters(query.searchAttributes, op);
  const indexed = attributes.index(query.status !== undefined || query.type !== undefined);
  const prefix = indexed
    ? keys.visAttrValuePrefix(query.namespace, indexed.name, indexed.value)
    : keys.visPrefix(query.namespace, query.status, query.type);
  const range = keys.visRange(prefix, startedAfter, startedBefore);
  const rowChecks: Check[] = [];
  if (closedAfter !== undefined) rowChecks.push((s) => s.closedAt !== undefined && s.closedAt >= closedAfter);
  if (closedBefore !== undefined) rowChecks.push((s) => s.closedAt !== undefined && s.closedAt < closedBefore);
  if (workflowIdPrefix) rowChecks.push((s) => s.workflowId.startsWith(workflowIdPrefix));
  const statusAndType: Check[] = [];
  if (query.status !== undefined) statusAndType.push((s) => s.status === query.status);
  if (query.type !== undefined) statusAndType.push((s) => s.type === query.type);
  const plan: ListingPlan = { prefix, range };
  if (indexed) plan.rowsAt = { prefix: keys.visPrefix(query.namespace), tailAt: prefix.length };
  const filter = every([...attributes.checks(indexed?.name), ...(indexed ? statusAndType : []), ...rowChecks]);
  if (filter) plan.filter = filter;
  const ranged = indexed ? undefined : attributes.range();
  if (ranged) {
    const { range: valueRange, tailAt } = keys.visAttrNumberRange(query.namespace, ranged.name, ranged.bounds);
    plan.byValue = { range: valueRange, tailAt, filter: every([...attributes.checks(ranged.name), ...statusAndType, ...rowChecks]) };
  }
  return plan;
}

type Check = (summary: RunSummary) => boolean;

function every(checks: Check[]): Check | undefined {
  return checks.length === 0 ? undefined : (s) => checks.every((check) => check(s));
}

/** The plan's range, continued after the last key of the previous page. */
export function continueRange(plan: ListingPlan, pageToken: string | undefined): { gte: string; lt: string } | { gt: string; lt: string } {
  if (pageToken === undefined) return plan.range;
  const after = parsePageToken(pageToken, plan.prefix);
  return after < plan.range.gte ? plan.range : { gt: after, lt: plan.range.lt };
}

export function pageTokenOf(key: string): string {
  return Buffer.from(key).toString('base64url');
}

/**
 * Fills one page from the rows a scan reads in index order. A match beyond a full page proves
 * there is a next page, which starts after the last row taken; a scan that stops on its budget
 * continues after the last row it read.
 */
export class PageFiller {
  readonly runs: RunSummary[] = [];
  private lastKey: string | undefined;

  constructor(private readonly limit: number) {}

  /** Takes the row at `key` (`match` when it passes the filters); the finished page once one more match shows there is a next. */
  take(key: string, match: RunSummary | undefined): ListRunsPage | undefined {
    if (match) {
      if (this.runs.length === this.limit) return { runs: this.runs, nextPageToken: pageTokenOf(this.lastKey ?? key) };
      this.runs.push(match);
    }
    this.lastKey = key;
    return undefined;
  }

  /** The page when the scan stopped: the index exhausted (no next page), or the budget spent (continue after the last row). */
  end(exhausted: boolean): ListRunsPage {
    return exhausted || this.lastKey === undefined ? { runs: this.runs } : { runs: this.runs, nextPageToken: pageTokenOf(this.lastKey) };
  }
}

function parsePageToken(token: string, prefix: string): string {
  const key = typeof token === 'string' ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!key.startsWith(prefix)) {
    throw new InvalidArgumentError('pageToken does not belong to this listing: pass the token of the previous page of the same query.');
  }
  return key;
}
