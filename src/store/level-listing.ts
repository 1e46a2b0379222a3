// Visibility on the LevelDB store: reads its listing indexes (keys.ts: `vis/…`, `vis-attr/…`).
// Which index a query is read from is planned in listing-plan.ts; this runs the plan.
import type { ClassicLevel } from 'classic-level';
import { InvalidArgumentError } from '../common/errors.ts';
import { countByKeys, listByKeys } from './keyed-listing.ts';
import { continueRange, PageFiller, pageTokenOf, planListing } from './listing-plan.ts';
import type { CountRunsResult, ListRunsPage, ListRunsQuery } from './store.ts';
import type { RunRecord } from '../common/run-model.ts';
import type { RunSummary } from '../common/execution-types.ts';
import { countByValue, listByValue } from './value-range-listing.ts';

type Db = ClassicLevel<string, Buffer>;

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
/** Rows a filtered listing page reads at most before it returns with a continuation token. */
const SCAN_BUDGET = 10_000;
const SCAN_CHUNK = 256;
/** Rows `countRuns` reads at most; beyond, the count is a lower bound (`capped: true`). */
const COUNT_CAP = 1_000_000;
const COUNT_CHUNK = 1000;

/**
 * A listing is a range read of the narrowest index (by status and/or type), bounded by the
 * start-time window. Without close-time or workflow-id-prefix filters a page costs exactly its
 * size. With them, rows are decoded and checked while scanning: a page reads at most
 * `SCAN_BUDGET` rows and, when the budget runs out first, returns what it found (maybe nothing)
 * with a token that continues the scan. So a sparse filter costs O(rows scanned / budget)
 * round trips, never an unbounded request. `closedBefore` also bounds the start window
 * (a run starts before it closes), which keeps "closed before T" fast for old T.
 */
export async function listRunsIn(db: Db, query: ListRunsQuery, decodeSummary: (stored: Buffer) => RunSummary): Promise<ListRunsPage> {
  const plan = planListing(query, 'listRuns');
  const limit = pageLimit(query.limit ?? DEFAULT_PAGE, MAX_PAGE);
  // A selective range on a number or datetime attribute is read from its value index.
  const byValue = plan.byValue && await listByValue(db, plan, query.pageToken, limit, decodeSummary);
  if (byValue) return byValue;
  const range = continueRange(plan, query.pageToken);
  if (plan.rowsAt) return listByKeys(db, plan, range, limit, SCAN_BUDGET, decodeSummary);
  if (!plan.filter) {
    // One row more than asked says whether there is a next page, so the last page has no token.
    const rows = await db.iterator({ ...range, limit: limit + 1 }).all();
    const page = rows.slice(0, limit);
    const runs = page.map(([, v]) => decodeSummary(v));
    const last = page[page.length - 1];
    return rows.length > limit && last ? { runs, nextPageToken: pageTokenOf(last[0]) } : { runs };
  }
  const iterator = db.iterator(range);
  try {
    const page = new PageFiller(limit);
    for (let scanned = 0; scanned < SCAN_BUDGET;) {
      const rows = await iterator.nextv(Math.min(SCAN_CHUNK, SCAN_BUDGET - scanned));
      if (rows.length === 0) return page.end(true);
      for (const [key, value] of rows) {
        scanned++;
        const summary = decodeSummary(value);
        const full = page.take(key, plan.filter(summary) ? summary : undefined);
        if (full) return full;
      }
    }
    return page.end(false);
  } finally {
    await iterator.close();
  }
}

/**
 * Counts by scanning, not by maintained counters: a counter per index would need a
 * read-modify-write inside group commit (two commits in one batch must not both read the same
 * value) and could not answer time-window or prefix filters anyway. A keys-only scan of the
 * narrowest index within the start window costs about 1.2 µs per run (about 120 ms for
 * 100,000, `bench/visibility-bench.ts`); close-time and prefix filters decode each value,
 * about 1.5–3 µs. It stops at `COUNT_CAP` rows scanned and then answers
 * `{ count, capped: true }` (a lower bound).
 */
export async function countRunsIn(db: Db, query: ListRunsQuery, decodeSummary: (stored: Buffer) => RunSummary): Promise<CountRunsResult> {
  const plan = planListing(query, 'countRuns');
  const byValue = plan.byValue && await countByValue(db, plan, decodeSummary);
  if (byValue !== undefined) return { count: byValue };
  let count = 0;
  let scanned = 0;
  if (!plan.filter) {
    const iterator = db.keys(plan.range);
    try {
      while (scanned < COUNT_CAP) {
        const rows = await iterator.nextv(Math.min(COUNT_CHUNK, COUNT_CAP - scanned));
        if (rows.length === 0) return { count: scanned };
        scanned += rows.length;
      }
    } finally {
      await iterator.close();
    }
    return { count: scanned, capped: true };
  }
  if (plan.rowsAt) return countByKeys(db, plan, plan.range, COUNT_CAP, decodeSummary);
  const iterator = db.values(plan.range);
  try {
    while (scanned < COUNT_CAP) {
      const rows = await iterator.nextv(Math.min(COUNT_CHUNK, COUNT_CAP - scanned));
      if (rows.length === 0) return { count };
      scanned += rows.length;
      for (const value of rows) if (plan.filter(decodeSummary(value))) count++;
    }
  } finally {
    await iterator.close();
  }
  return { count, capped: true };
}

/** A page size from a caller's `limit`: at most `max`; Infinity means no cap (-1 to LevelDB when none is given). */
export function pageLimit(limit: number | undefined, max: number): number {
  if (limit === undefined) return max === Infinity ? -1 : max;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}.`);
  return Math.min(limit, max === Infinity ? limit : max);
}

/** The row a run's listing keys hold: what a listing shows of it. */
export function summaryOf(run: RunRecord): RunSummary {
  const summary: RunSummary = {
    runId: run.runId, workflowId: run.workflowId, type: run.type, version: run.version,
    status: run.status, startedAt: run.startedAt,
  };
  if (run.closedAt !== undefined) summary.closedAt = run.closedAt;
  if (run.finalState !== undefined) summary.finalState = run.finalState;
  if (run.searchAttributes && Object.keys(run.searchAttributes).length > 0) summary.searchAttributes = run.searchAttributes;
  return summary;
}
