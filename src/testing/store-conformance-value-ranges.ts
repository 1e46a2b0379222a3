import type { ListRunsQuery, Store } from '../store/store.ts';
import type { RunRecord } from '../common/run-model.ts';
import { VALUE_RANGE_BUDGET } from '../store/value-range-listing.ts';
import type { StoreFixture } from './store-conformance.ts';
import { appendRun, fixtureRun, startRun, T0 } from './store-fixtures.ts';
import type { Expect, SuiteFunctions } from './suite-functions.ts';

type WithStore = (test: (store: Store, fixture: StoreFixture) => Promise<void>) => () => Promise<void>;

/**
 * More runs than LevelDB reads a value range from its index for (VALUE_RANGE_BUDGET): a backend
 * that answers a selective range one way and a broad one another is checked on both sides of
 * its line, and every backend is checked against the same brute-force filter.
 */
const RUNS = VALUE_RANGE_BUDGET + 300;

/**
 * The conformance cases of ranges on number search attributes over many runs: listed and
 * counted alike whatever their breadth, combined with status and a start window, over pages of
 * several sizes, and a page token that goes on after newer runs have made a range broad.
 */
export function valueRangeConformanceCases(withStore: WithStore, { it, expect }: SuiteFunctions): void {
  it('lists and counts selective and broad number ranges alike, with status and a start window, over pages', withStore(async (store) => {
    const runs = await seed(store, 0, RUNS);
    const cases: Array<[Omit<ListRunsQuery, 'namespace'>, (r: RunRecord) => boolean]> = [
      [{ searchAttributes: { amount: { gte: 100, lt: 130 } } }, (r) => amountOf(r) >= 100 && amountOf(r) < 130], // selective
      [{ searchAttributes: { amount: { gt: 5 } } }, (r) => amountOf(r) > 5], // broad
      [{ searchAttributes: { amount: { lte: 40 } }, status: 'completed' }, (r) => amountOf(r) <= 40 && r.status === 'completed'],
      [{ searchAttributes: { amount: { gte: 10 }, odd: true }, status: 'running' }, (r) => amountOf(r) >= 10 && r.status === 'running' && r.searchAttributes?.odd === true],
      [{ searchAttributes: { amount: { lt: 500 } }, startedAfter: T0 + 300_000, startedBefore: T0 + 1_900_000 },
        (r) => amountOf(r) < 500 && r.startedAt >= T0 + 300_000 && r.startedAt < T0 + 1_900_000],
      [{ searchAttributes: { amount: { gte: RUNS } } }, () => false],
    ];
    for (const [query, match] of cases) {
      const expected = newestFirst(runs.filter(match));
      for (const limit of [7, 1000]) expect(await listAll(store, { ...query, limit }, expect), JSON.stringify(query)).toEqual(expected);
      expect(await store.countRuns({ namespace: 'default', ...query }), JSON.stringify(query)).toEqual({ count: expected.length });
    }
  }));

  it('continues a range listing from its page token after newer runs have made the range broad', withStore(async (store) => {
    const runs = await seed(store, 0, 300);
    const query = { namespace: 'default', searchAttributes: { amount: { gte: 0 } }, limit: 100 };
    const first = await store.listRuns(query); // 300 matches: a selective range
    expect(first.runs.map((r) => r.runId)).toEqual(newestFirst(runs).slice(0, 100));
    await seed(store, 300, VALUE_RANGE_BUDGET); // newer runs, all matching: the range is broad now
    const rest: string[] = [];
    let pageToken = first.nextPageToken;
    while (pageToken !== undefined) {
      const page = await store.listRuns({ ...query, pageToken });
      rest.push(...page.runs.map((r) => r.runId));
      pageToken = page.nextPageToken;
    }
    // Newer runs sort before the token, so the listing goes on with the older ones only, each once.
    expect(rest).toEqual(newestFirst(runs).slice(100));
  }));
}

/** Runs from..from+count-1; amount a permutation of 0..RUNS-1 (so amount order is not start order), every fifth completed. */
async function seed(store: Store, from: number, count: number): Promise<RunRecord[]> {
  const runs = await Promise.all(Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return startRun(store, fixtureRun(`r-${i}`, { startedAt: T0 + i * 1000, searchAttributes: { amount: (i * 7919) % RUNS, odd: i % 2 === 1 } }));
  }));
  return Promise.all(runs.map((r, k) => ((from + k) % 5 === 0 ? appendRun(store, r, 1, { status: 'completed', run: { closedAt: r.startedAt + 1 } }) : r)));
}

async function listAll(store: Store, query: Omit<ListRunsQuery, 'namespace'>, expect: Expect): Promise<string[]> {
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await store.listRuns({ namespace: 'default', ...query, pageToken });
    expect(page.runs.length).toBeLessThanOrEqual(query.limit ?? 100);
    ids.push(...page.runs.map((r) => r.runId));
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  return ids;
}

const amountOf = (r: RunRecord) => r.searchAttributes?.amount as number;
const newestFirst = (runs: RunRecord[]) => [...runs].sort((a, b) => b.startedAt - a.startedAt).map((r) => r.runId);
