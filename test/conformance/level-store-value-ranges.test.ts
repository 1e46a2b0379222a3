import { describe, expect, it } from 'vitest';
import { withTempLevelStore } from '../helpers/temp-store.ts';
import type { ListRunsQuery, Store } from '../../src/store/store.ts';
import type { RunRecord } from '../../src/common/run-model.ts';
import type { RunSummary } from '../../src/common/execution-types.ts';
import { VALUE_RANGE_BUDGET } from '../../src/store/value-range-listing.ts';
import { appendRun, fixtureRun, startRun, T0 } from '../../src/testing/store-fixtures.ts';

// Ranges on number attributes in LevelStore: a selective range is read from the value index,
// a broad one (more keys than VALUE_RANGE_BUDGET) by scanning; both must give the same listing,
// and a page token of one must continue the other.

const withStore = withTempLevelStore;

const RUNS = VALUE_RANGE_BUDGET + 300;

/** RUNS runs, amount = a permutation of 0..RUNS-1 (so amount order is not start order), every fifth completed. */
async function seed(store: Store, from = 0, count = RUNS): Promise<RunRecord[]> {
  const runs = await Promise.all(Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return startRun(store, fixtureRun(`r-${i}`, { startedAt: T0 + i * 1000, searchAttributes: { amount: (i * 7919) % RUNS, odd: i % 2 === 1 } }));
  }));
  return Promise.all(runs.map((r, k) => ((from + k) % 5 === 0 ? appendRun(store, r, 1, { status: 'completed', run: { closedAt: r.startedAt + 1 } }) : r)));
}

async function listAll(store: Store, query: Omit<ListRunsQuery, 'namespace'>): Promise<string[]> {
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await store.listRuns({ namespace: 'default', ...query, pageToken });
    ids.push(...page.runs.map((r) => r.runId));
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  return ids;
}

const amountOf = (r: RunRecord | RunSummary) => r.searchAttributes?.amount as number;
const newestFirst = (runs: RunRecord[]) => [...runs].sort((a, b) => b.startedAt - a.startedAt).map((r) => r.runId);

describe('LevelStore ranges on number attributes', () => {
  it('lists and counts selective and broad ranges alike, with status and a start window, over pages', () => withStore(async (store) => {
    const runs = await seed(store);
    const cases: Array<[Omit<ListRunsQuery, 'namespace'>, (r: RunRecord) => boolean]> = [
      [{ searchAttributes: { amount: { gte: 100, lt: 130 } } }, (r) => amountOf(r) >= 100 && amountOf(r) < 130], // selective: value index
      [{ searchAttributes: { amount: { gt: 5 } } }, (r) => amountOf(r) > 5], // broad: scan
      [{ searchAttributes: { amount: { lte: 40 } }, status: 'completed' }, (r) => amountOf(r) <= 40 && r.status === 'completed'],
      [{ searchAttributes: { amount: { gte: 10 }, odd: true }, status: 'running' }, (r) => amountOf(r) >= 10 && r.status === 'running' && r.searchAttributes?.odd === true],
      [{ searchAttributes: { amount: { lt: 500 } }, startedAfter: T0 + 300_000, startedBefore: T0 + 1_900_000 },
        (r) => amountOf(r) < 500 && r.startedAt >= T0 + 300_000 && r.startedAt < T0 + 1_900_000],
      [{ searchAttributes: { amount: { gte: RUNS } } }, () => false],
    ];
    for (const [query, match] of cases) {
      const expected = newestFirst(runs.filter(match));
      for (const limit of [7, 1000]) expect(await listAll(store, { ...query, limit }), JSON.stringify(query)).toEqual(expected);
      expect(await store.countRuns({ namespace: 'default', ...query }), JSON.stringify(query)).toEqual({ count: expected.length });
    }
  }));

  it('continues a listing read from the value index with a scan once the range has grown broad', () => withStore(async (store) => {
    const runs = await seed(store, 0, 300);
    const query = { searchAttributes: { amount: { gte: 0 } }, limit: 100 };
    const first = await store.listRuns({ namespace: 'default', ...query }); // 300 keys: read by value
    expect(first.runs.map((r) => r.runId)).toEqual(newestFirst(runs).slice(0, 100));
    await seed(store, 300, VALUE_RANGE_BUDGET); // newer runs: the range now holds too many keys, so it is scanned
    const rest: string[] = [];
    let pageToken = first.nextPageToken;
    while (pageToken !== undefined) {
      const page = await store.listRuns({ namespace: 'default', ...query, pageToken });
      rest.push(...page.runs.map((r) => r.runId));
      pageToken = page.nextPageToken;
    }
    expect(rest).toEqual(newestFirst(runs).slice(100));
  }));
});
