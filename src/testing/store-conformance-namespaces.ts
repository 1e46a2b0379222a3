import type { SuiteFunctions } from './suite-functions.ts';
import { DEFAULT_RETENTION_MS } from '../common/namespaces.ts';
import type { NamespaceRecord, Store } from '../store/store.ts';
import type { RunRecord } from '../common/run-model.ts';
import type { StoreFixture } from './store-conformance.ts';
import { appendRun, fixtureRun, startRun, T0 } from './store-fixtures.ts';

type WithStore = (test: (store: Store, fixture: StoreFixture) => Promise<void>) => () => Promise<void>;

const DAY = 86_400_000;

/**
 * The conformance cases of namespaces and retention (the close-time index and `deleteRun`), run
 * inside `storeConformanceSuite`.
 */
export function namespaceConformanceCases(withStore: WithStore, { it, expect }: SuiteFunctions): void {
  it('has the default namespace from its first open, with the default retention', withStore(async (store) => {
    const namespace = await store.getNamespace('default');
    expect(namespace).toMatchObject({ name: 'default', retention: DEFAULT_RETENTION_MS });
    expect(namespace!.createdAt).toBe(namespace!.updatedAt);
    expect(await store.listNamespaces()).toEqual([namespace]);
    expect(await store.getNamespace('Default')).toBeUndefined();
  }));

  it('creates, replaces and lists namespaces by name', withStore(async (store) => {
    const billing = ns('billing', { description: 'invoices and refunds', retention: 7 * DAY });
    await store.putNamespace(ns('zeta'));
    await store.putNamespace(billing);
    expect(await store.getNamespace('billing')).toEqual(billing);
    expect((await store.listNamespaces()).map((n) => n.name)).toEqual(['billing', 'default', 'zeta']);
    // a replacement without a description removes it
    const changed = ns('billing', { retention: DAY, updatedAt: T0 + 5 });
    await store.putNamespace(changed);
    expect(await store.getNamespace('billing')).toEqual(changed);
    expect(await store.getNamespace('nowhere')).toBeUndefined();
  }));

  it('refuses a malformed namespace record', withStore(async (store) => {
    const refused = { code: 'INVALID_ARGUMENT' };
    await expect(store.putNamespace(ns('bad', { retention: -1 }))).rejects.toMatchObject(refused);
    await expect(store.putNamespace(ns('', {}))).rejects.toMatchObject(refused);
    await expect(store.putNamespace({ ...ns('bad'), createdAt: Number.NaN })).rejects.toMatchObject(refused);
    expect(await store.getNamespace('bad')).toBeUndefined();
  }));

  it('keeps namespaces across reopen and never resets an existing default', withStore(async (store, fixture) => {
    if (!fixture.reopen) return;
    const original = (await store.getNamespace('default'))!;
    const shorter = { ...original, retention: DAY, description: 'one day', updatedAt: original.updatedAt + 1 };
    await store.putNamespace(shorter);
    await store.putNamespace(ns('billing'));
    const reopened = await fixture.reopen();
    expect(await reopened.getNamespace('default')).toEqual(shorter);
    expect(await reopened.getNamespace('billing')).toEqual(ns('billing'));
  }));

  it('lists closed runs by close time, before the cutoff and in their namespace only', withStore(async (store) => {
    const closeAt = async (runId: string, closedAt: number, namespace = 'default') =>
      appendRun(store, await startRun(store, fixtureRun(runId, { namespace })), 1, { status: 'completed', run: { closedAt } });
    await closeAt('r-late', T0 + 300);
    await closeAt('r-early', T0 + 100);
    await closeAt('r-mid-b', T0 + 200);
    await closeAt('r-mid-a', T0 + 200);
    await closeAt('r-other', T0 + 50, 'other');
    await startRun(store, fixtureRun('r-open'));
    // a run closed by its first commit is indexed too
    await startRun(store, fixtureRun('r-instant', { startedAt: T0 + 1 }), 2, { status: 'failed', run: { closedAt: T0 + 150 } });

    const all = await store.listClosedRuns('default', { closedBefore: T0 + 1000, limit: 100 });
    // each names its run's shard, so only the node that holds it deletes the run
    for (const ref of all) expect(ref.shard).toBe(store.shards().shardOf('default', `wf-${ref.runId}`));
    expect(all.map(({ runId, closedAt }) => ({ runId, closedAt }))).toEqual([
      { runId: 'r-early', closedAt: T0 + 100 }, { runId: 'r-instant', closedAt: T0 + 150 },
      { runId: 'r-mid-a', closedAt: T0 + 200 }, { runId: 'r-mid-b', closedAt: T0 + 200 }, { runId: 'r-late', closedAt: T0 + 300 },
    ]);
    // the cutoff is exclusive
    expect((await store.listClosedRuns('default', { closedBefore: T0 + 200, limit: 100 })).map((r) => r.runId)).toEqual(['r-early', 'r-instant']);
    expect(await store.listClosedRuns('default', { closedBefore: T0, limit: 100 })).toEqual([]);
    expect(await store.listClosedRuns('other', { closedBefore: T0 + 1000, limit: 100 })).toEqual([{ runId: 'r-other', closedAt: T0 + 50, shard: store.shards().shardOf('other', 'wf-r-other') }]);
    expect(await store.listClosedRuns('nowhere', { closedBefore: T0 + 1000, limit: 100 })).toEqual([]);
    // paging: `after` continues where the last page ended
    const first = await store.listClosedRuns('default', { closedBefore: T0 + 1000, limit: 3 });
    expect(first).toEqual(all.slice(0, 3));
    expect(await store.listClosedRuns('default', { closedBefore: T0 + 1000, limit: 3, after: first[2] })).toEqual(all.slice(3));
  }));

  it('deletes a closed run with its history, listing entries, pointers and index entry', withStore(async (store) => {
    const open = await startRun(store, fixtureRun('r-open', { workflowId: 'orders/2' }), 2);
    const done = await closed(store, fixtureRun('r-1', { workflowId: 'orders/1', idempotencyKey: 'idem-1' }), T0 + 10);
    expect(await store.deleteRun('r-1')).toBe(true);

    expect(await store.getRun('r-1')).toBeUndefined();
    expect(await store.readHistory('r-1')).toEqual([]);
    expect(await store.getCurrentRunId('default', 'orders/1')).toBeUndefined();
    expect(await store.findRunByIdempotencyKey('default', 'idem-1')).toBeUndefined();
    expect(await store.listClosedRuns('default', { closedBefore: T0 + 1000, limit: 10 })).toEqual([]);
    for (const query of [{}, { status: done.status }, { type: done.type }, { status: done.status, type: done.type }]) {
      expect((await store.listRuns({ namespace: 'default', ...query })).runs.map((r) => r.runId)).not.toContain('r-1');
    }
    expect(await store.countRuns({ namespace: 'default' })).toEqual({ count: 1 });
    // the open run is untouched, and a second delete finds nothing
    expect(await store.getRun('r-open')).toEqual(open);
    expect((await store.readHistory('r-open')).map((e) => e.seq)).toEqual([1, 2]);
    expect(await store.getCurrentRunId('default', 'orders/2')).toBe('r-open');
    expect(await store.deleteRun('r-1')).toBe(false);
    expect(await store.deleteRun('missing')).toBe(false);
  }));

  it('keeps the workflow id pointer and idempotency key of a newer run', withStore(async (store) => {
    await closed(store, fixtureRun('r-1', { workflowId: 'orders/1', idempotencyKey: 'shared' }), T0 + 10);
    const newer = await startRun(store, fixtureRun('r-2', { workflowId: 'orders/1', idempotencyKey: 'shared', startedAt: T0 + 20 }), 1);
    expect(await store.deleteRun('r-1')).toBe(true);
    expect(await store.getCurrentRunId('default', 'orders/1')).toBe('r-2');
    expect(await store.findRunByIdempotencyKey('default', 'shared')).toBe('r-2');
    expect(await store.getRun('r-2')).toEqual(newer);
    expect((await store.listRuns({ namespace: 'default' })).runs.map((r) => r.runId)).toEqual(['r-2']);
  }));

  it('keeps the pointer of a run started while the old run is being deleted', withStore(async (store) => {
    for (let i = 0; i < 10; i++) {
      const workflowId = `race-${i}`;
      await closed(store, fixtureRun(`old-${i}`, { workflowId }), T0 + 10);
      // Started together: whichever write lands last, the new run must stay reachable.
      const [deleted] = await Promise.all([store.deleteRun(`old-${i}`), startRun(store, fixtureRun(`new-${i}`, { workflowId, startedAt: T0 + 20 }))]);
      expect(deleted).toBe(true);
      expect(await store.getCurrentRunId('default', workflowId)).toBe(`new-${i}`);
    }
  }));

  it('refuses to delete an open run', withStore(async (store) => {
    const open = await startRun(store, fixtureRun('r-1'), 2);
    await expect(store.deleteRun('r-1')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await store.getRun('r-1')).toEqual(open);
    expect(await store.getCurrentRunId('default', 'wf-r-1')).toBe('r-1');
  }));

  it('keeps the close-time index and deletions across reopen', withStore(async (store, fixture) => {
    if (!fixture.reopen) return;
    await closed(store, fixtureRun('r-1'), T0 + 10);
    await closed(store, fixtureRun('r-2'), T0 + 20);
    expect(await store.deleteRun('r-1')).toBe(true);
    const reopened = await fixture.reopen();
    expect(await reopened.getRun('r-1')).toBeUndefined();
    expect(await reopened.readHistory('r-1')).toEqual([]);
    expect(await reopened.listClosedRuns('default', { closedBefore: T0 + 1000, limit: 10 })).toEqual([{ runId: 'r-2', closedAt: T0 + 20, shard: reopened.shards().shardOf('default', 'wf-r-2') }]);
  }));
}

function ns(name: string, overrides: Partial<NamespaceRecord> = {}): NamespaceRecord {
  return { name, retention: 3 * DAY, createdAt: T0, updatedAt: T0, ...overrides };
}

/** A run of two events that completed at `closedAt`. */
async function closed(store: Store, run: RunRecord, closedAt: number): Promise<RunRecord> {
  return appendRun(store, await startRun(store, run, 1), 1, { status: 'completed', run: { closedAt } });
}
