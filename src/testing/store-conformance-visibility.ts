import type { Expect, SuiteFunctions } from './suite-functions.ts';
import type { ListRunsQuery, Store } from '../store/store.ts';
import type { RunRecord } from '../common/run-model.ts';
import type { RunSummary } from '../common/execution-types.ts';
import { appendRun, fixtureRun, startRun, T0 } from './store-fixtures.ts';
import type { StoreFixture } from './store-conformance.ts';

type WithStore = (test: (store: Store, fixture: StoreFixture) => Promise<void>) => () => Promise<void>;

/**
 * The visibility cases of the store conformance suite (issue 4): start and close time windows,
 * workflow id prefix and count, each checked against a brute-force filter of the same runs, over
 * pages of several sizes. Called inside `storeConformanceSuite`.
 */
export function visibilityConformanceCases(withStore: WithStore, { it, expect }: SuiteFunctions): void {
  for (const [name, query, filter] of cases) {
    it(`lists and counts by ${name}, newest first, over pages of 1, 3 and 100`, withStore(async (store) => {
      const expected = (await seed(store)).filter(filter);
      for (const limit of [1, 3, 100]) expect(await listAll(store, { ...query, limit }, expect)).toEqual(expected);
      expect(await store.countRuns({ namespace: 'default', ...query })).toEqual({ count: expected.length });
    }));
  }

  it('counts every run, by status and by type, and none of another namespace', withStore(async (store) => {
    const all = await seed(store);
    expect(await store.countRuns({ namespace: 'default' })).toEqual({ count: 40 });
    expect(await store.countRuns({ namespace: 'default', status: 'running' })).toEqual({ count: all.filter((s) => s.status === 'running').length });
    expect(await store.countRuns({ namespace: 'default', type: 'refund' })).toEqual({ count: 20 });
    expect(await store.countRuns({ namespace: 'elsewhere' })).toEqual({ count: 0 });
  }));

  it('moves a run between close windows as it closes, and out of the open listing', withStore(async (store) => {
    const run = await startRun(store, fixtureRun('r-1', { startedAt: T0 }));
    expect(await store.countRuns({ namespace: 'default', closedAfter: T0 })).toEqual({ count: 0 });
    await appendRun(store, run, 1, { status: 'completed', run: { closedAt: T0 + 50 } });
    expect((await store.listRuns({ namespace: 'default', closedAfter: T0, closedBefore: T0 + 51 })).runs.map((s) => s.runId)).toEqual(['r-1']);
    expect((await store.listRuns({ namespace: 'default', closedBefore: T0 + 50 })).runs).toEqual([]);
    expect(await store.countRuns({ namespace: 'default', status: 'running' })).toEqual({ count: 0 });
  }));

  it('refuses a time that is not a number, and a token of another listing', withStore(async (store) => {
    await seed(store);
    await expect(store.listRuns({ namespace: 'default', startedAfter: Number.NaN })).rejects.toThrow(/startedAfter must be a time/);
    await expect(store.countRuns({ namespace: 'default', closedBefore: 'soon' as unknown as number })).rejects.toThrow(/closedBefore must be a time/);
    const { nextPageToken } = await store.listRuns({ namespace: 'default', status: 'running', limit: 2 });
    await expect(store.listRuns({ namespace: 'default', type: 'order', pageToken: nextPageToken })).rejects.toThrow(/pageToken does not belong/);
  }));
}

const STATUSES = ['running', 'completed', 'failed'] as const;

/** 40 runs started a second apart (committed out of order), a third of them still running. */
async function seed(store: Store): Promise<RunSummary[]> {
  const order = Array.from({ length: 40 }, (_, i) => (i * 17) % 40);
  const latest: RunRecord[] = [];
  for (const i of order) {
    const run = await startRun(store, fixtureRun(`r-${i}`, {
      type: i % 2 === 0 ? 'order' : 'refund', workflowId: `${i % 4 === 0 ? 'cust-a' : 'cust-b'}/${i}`, startedAt: T0 + i * 1000,
    }));
    const status = STATUSES[i % 3]!;
    latest.push(status === 'running' ? run : await appendRun(store, run, 1, { status, run: { closedAt: run.startedAt + (i % 5) * 700 } }));
  }
  return latest.map(({ runId, workflowId, type, version, status, startedAt, closedAt }) =>
    (closedAt === undefined ? { runId, workflowId, type, version, status, startedAt } : { runId, workflowId, type, version, status, startedAt, closedAt }))
    .sort((a, b) => b.startedAt - a.startedAt);
}

/** Every page of a listing, checking each page's size. */
async function listAll(store: Store, query: Omit<ListRunsQuery, 'namespace'>, expect: Expect): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const page = await store.listRuns({ namespace: 'default', ...query, pageToken });
    expect(page.runs.length).toBeLessThanOrEqual(query.limit ?? 100);
    runs.push(...page.runs);
    pageToken = page.nextPageToken;
    expect(++pages).toBeLessThanOrEqual(99);
  } while (pageToken !== undefined);
  return runs;
}

const cases: Array<[string, Omit<ListRunsQuery, 'namespace'>, (s: RunSummary) => boolean]> = [
  ['a start window', { startedAfter: T0 + 10_000, startedBefore: T0 + 20_000 }, (s) => s.startedAt >= T0 + 10_000 && s.startedAt < T0 + 20_000],
  ['started after only', { startedAfter: T0 + 35_500 }, (s) => s.startedAt >= T0 + 35_500],
  ['started before only', { startedBefore: T0 + 3000 }, (s) => s.startedAt < T0 + 3000],
  ['a start window with status and type', { status: 'completed', type: 'order', startedAfter: T0 + 4000, startedBefore: T0 + 30_001 },
    (s) => s.status === 'completed' && s.type === 'order' && s.startedAt >= T0 + 4000 && s.startedAt < T0 + 30_001],
  ['a close window', { closedAfter: T0 + 10_000, closedBefore: T0 + 25_000 },
    (s) => s.closedAt !== undefined && s.closedAt >= T0 + 10_000 && s.closedAt < T0 + 25_000],
  ['closed before only, with a type', { type: 'refund', closedBefore: T0 + 20_000 }, (s) => s.type === 'refund' && s.closedAt !== undefined && s.closedAt < T0 + 20_000],
  ['closed after only', { closedAfter: T0 + 30_000 }, (s) => s.closedAt !== undefined && s.closedAt >= T0 + 30_000],
  ['a workflow id prefix', { workflowIdPrefix: 'cust-a/' }, (s) => s.workflowId.startsWith('cust-a/')],
  ['a prefix with status and a start window', { workflowIdPrefix: 'cust-b', status: 'running', startedAfter: T0 + 5000 },
    (s) => s.workflowId.startsWith('cust-b') && s.status === 'running' && s.startedAt >= T0 + 5000],
  ['a window that is empty', { startedAfter: T0 + 20_000, startedBefore: T0 + 20_000 }, () => false],
];
