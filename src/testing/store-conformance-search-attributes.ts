import type { Expect, SuiteFunctions } from './suite-functions.ts';
import type { ListRunsQuery, Store } from '../store/store.ts';
import type { RunRecord } from '../common/run-model.ts';
import type { RunSummary } from '../common/execution-types.ts';
import { appendRun, fixtureRun, startRun, T0 } from './store-fixtures.ts';
import type { StoreFixture } from './store-conformance.ts';

type WithStore = (test: (store: Store, fixture: StoreFixture) => Promise<void>) => () => Promise<void>;

/**
 * The search-attribute cases of the store conformance suite: exact matches and ranges, combined
 * with the other filters, newest first over pages; entries that move when the attributes or the
 * status change; and all of it across a reopen. Called inside `storeConformanceSuite`.
 */
export function searchAttributeConformanceCases(withStore: WithStore, { it, expect }: SuiteFunctions): void {
  it('lists and counts by search attributes — exact, range and combined — newest first over pages', withStore(async (store) => {
    const latest = await seed(store);
    const cases: Array<[Omit<ListRunsQuery, 'namespace'>, (r: RunRecord) => boolean]> = [
      [{ searchAttributes: { customerId: 'c-1' } }, (r) => r.searchAttributes?.customerId === 'c-1'],
      [{ searchAttributes: { vip: true } }, (r) => r.searchAttributes?.vip === true],
      [{ searchAttributes: { amount: 40 } }, (r) => r.searchAttributes?.amount === 40],
      [{ searchAttributes: { amount: { gte: 10, lt: 100 } } }, (r) => inRange(r, 10, 100)],
      [{ searchAttributes: { amount: { gt: -5 } } }, (r) => typeof r.searchAttributes?.amount === 'number' && r.searchAttributes.amount > -5],
      [{ searchAttributes: { customerId: 'c-2', amount: { lte: 50 } } }, (r) => r.searchAttributes?.customerId === 'c-2' && typeof r.searchAttributes.amount === 'number' && r.searchAttributes.amount <= 50],
      [{ searchAttributes: { customerId: 'c-1', vip: false }, status: 'completed' },
        (r) => r.searchAttributes?.customerId === 'c-1' && r.searchAttributes.vip === false && r.status === 'completed'],
      [{ searchAttributes: { vip: true }, type: 'refund', startedAfter: T0 + 5000 },
        (r) => r.searchAttributes?.vip === true && r.type === 'refund' && r.startedAt >= T0 + 5000],
      [{ searchAttributes: { customerId: 'c-1' }, startedAfter: T0 + 3000, startedBefore: T0 + 20_000 },
        (r) => r.searchAttributes?.customerId === 'c-1' && r.startedAt >= T0 + 3000 && r.startedAt < T0 + 20_000],
      [{ searchAttributes: { customerId: 'c-1' }, workflowIdPrefix: 'wf-r-1' }, (r) => r.searchAttributes?.customerId === 'c-1' && r.workflowId.startsWith('wf-r-1')],
      [{ searchAttributes: { customerId: 'nobody' } }, () => false],
      [{ searchAttributes: { note: 'a/b c%' } }, (r) => r.searchAttributes?.note === 'a/b c%'],
    ];
    for (const [query, match] of cases) {
      const expected = latest.filter(match).sort((a, b) => b.startedAt - a.startedAt).map((r) => r.runId);
      for (const limit of [1, 4, 100]) expect((await listAll(store, { ...query, limit }, expect)).map((s) => s.runId), JSON.stringify(query)).toEqual(expected);
      expect(await store.countRuns({ namespace: 'default', ...query }), JSON.stringify(query)).toEqual({ count: expected.length });
    }
    const [first] = (await store.listRuns({ namespace: 'default', searchAttributes: { customerId: 'c-1' }, limit: 1 })).runs;
    expect(first?.searchAttributes).toEqual(latest.find((r) => r.runId === first?.runId)?.searchAttributes);
  }));

  it('moves a run between attribute listings as its attributes and status change, and keeps that across a reopen', withStore(async (store, fixture) => {
    const run = await startRun(store, fixtureRun('r-1', { searchAttributes: { customerId: 'c-1', amount: 5 } }));
    const ids = async (s: Store, searchAttributes: ListRunsQuery['searchAttributes']) =>
      (await s.listRuns({ namespace: 'default', searchAttributes })).runs.map((r) => r.runId);
    const changed = await appendRun(store, run, 1, { run: { searchAttributes: { customerId: 'c-2', amount: 500 } } });
    expect(await ids(store, { customerId: 'c-1' })).toEqual([]);
    expect(await ids(store, { customerId: 'c-2' })).toEqual(['r-1']);
    expect(await ids(store, { amount: { gte: 100 } })).toEqual(['r-1']);
    expect(await ids(store, { amount: 5 })).toEqual([]);
    const done = await appendRun(store, changed, 1, { status: 'completed', run: { closedAt: T0 + 9, searchAttributes: { customerId: 'c-2' } } });
    expect(await ids(store, { amount: 500 })).toEqual([]); // unset: no longer listed by it
    expect((await store.listRuns({ namespace: 'default', status: 'completed', searchAttributes: { customerId: 'c-2' } })).runs)
      .toEqual([{ runId: 'r-1', workflowId: 'wf-r-1', type: 'order', version: 'v1', status: 'completed', startedAt: T0, closedAt: T0 + 9, searchAttributes: { customerId: 'c-2' } }]);
    expect(await store.countRuns({ namespace: 'default', searchAttributes: { customerId: 'c-2' }, status: 'running' })).toEqual({ count: 0 });
    if (!fixture.reopen) return;
    const reopened = await fixture.reopen();
    expect((await reopened.getRun('r-1'))?.searchAttributes).toEqual({ customerId: 'c-2' });
    expect(await ids(reopened, { customerId: 'c-2' })).toEqual(['r-1']);
    // A commit after the reopen (the store has not seen the run in this process) moves it too.
    await appendRun(reopened, done, 1, { run: { searchAttributes: { customerId: 'c-3' } } });
    expect(await ids(reopened, { customerId: 'c-2' })).toEqual([]);
    expect(await ids(reopened, { customerId: 'c-3' })).toEqual(['r-1']);
    expect(await reopened.countRuns({ namespace: 'default' })).toEqual({ count: 1 });
  }));

  it('refuses search attributes it cannot index, and filters that are not filters', withStore(async (store) => {
    const refused = { code: 'INVALID_ARGUMENT' };
    await expect(startRun(store, fixtureRun('r-1', { searchAttributes: { 'bad name': 'x' } }))).rejects.toMatchObject(refused);
    await expect(startRun(store, fixtureRun('r-2', { searchAttributes: { amount: Number.NaN } }))).rejects.toMatchObject(refused);
    await expect(startRun(store, fixtureRun('r-3', { searchAttributes: { tags: ['a'] as unknown as string } }))).rejects.toMatchObject(refused);
    expect(await store.getRun('r-1')).toBeUndefined();
    const list = (searchAttributes: unknown) => store.listRuns({ namespace: 'default', searchAttributes: searchAttributes as ListRunsQuery['searchAttributes'] });
    await expect(list({ amount: { gte: 'ten' } })).rejects.toMatchObject(refused);
    await expect(list({ amount: {} })).rejects.toMatchObject(refused);
    await expect(list({ amount: { gte: 1, gt: 2 } })).rejects.toMatchObject(refused);
    await expect(list({ amount: { between: [1, 2] } })).rejects.toMatchObject(refused);
    await expect(list({ 'no-dashes': 'x' })).rejects.toMatchObject(refused);
    await expect(store.countRuns({ namespace: 'default', searchAttributes: [] as unknown as ListRunsQuery['searchAttributes'] })).rejects.toMatchObject(refused);
  }));
}

/** 30 runs of two types over three customers, some vip, with amounts (some negative, some unset), a third completed. */
async function seed(store: Store): Promise<RunRecord[]> {
  const latest: RunRecord[] = [];
  for (const i of Array.from({ length: 30 }, (_, k) => (k * 7) % 30)) {
    const searchAttributes: Record<string, string | number | boolean> = { customerId: `c-${i % 3}`, vip: i % 4 === 0 };
    if (i % 5 !== 0) searchAttributes.amount = (i - 6) * 10;
    if (i === 11) searchAttributes.note = 'a/b c%';
    const run = await startRun(store, fixtureRun(`r-${i}`, { type: i % 2 ? 'refund' : 'order', startedAt: T0 + i * 1000, searchAttributes }));
    latest.push(i % 3 === 1 ? await appendRun(store, run, 1, { status: 'completed', run: { closedAt: run.startedAt + 10 } }) : run);
  }
  return latest;
}

function inRange(r: RunRecord, from: number, to: number): boolean {
  const amount = r.searchAttributes?.amount;
  return typeof amount === 'number' && amount >= from && amount < to;
}

async function listAll(store: Store, query: Omit<ListRunsQuery, 'namespace'>, expect: Expect): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  let pageToken: string | undefined;
  do {
    const page = await store.listRuns({ namespace: 'default', ...query, pageToken });
    expect(page.runs.length).toBeLessThanOrEqual(query.limit ?? 100);
    runs.push(...page.runs);
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  return runs;
}
