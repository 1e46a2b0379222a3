import type { BatchObserver, Store, TaskEntry, TimerEntry } from '../store/store.ts';
import type { StoreFixture } from './store-conformance.ts';
import { appendRun, fixtureEvents, fixtureRun, startRun, T0 } from './store-fixtures.ts';
import type { SuiteFunctions } from './suite-functions.ts';

type WithStore = (test: (store: Store, fixture: StoreFixture) => Promise<void>) => () => Promise<void>;

/**
 * The conformance cases of a store's life: open is idempotent and may be repeated after close,
 * close lets every commit it accepted finish and then refuses everything with STORE_CLOSED,
 * what was committed survives a reopen, and batch observers hear every durable batch.
 * (A store built on `CheckedStore` gets all of this from the base; the cases prove it.)
 */
export function lifecycleConformanceCases(withStore: WithStore, { it, expect }: SuiteFunctions): void {
  it('opens once for concurrent and repeated open() calls', withStore(async (store) => {
    await Promise.all([store.open(), store.open()]); // already open: both are no-ops, never a second handle
    await store.open();
    await startRun(store, fixtureRun('r-1'), 1);
    expect((await store.getRun('r-1'))?.lastSeq).toBe(1);
  }));

  it('lets commits accepted before close finish, then keeps them', withStore(async (store, fixture) => {
    const first = fixtureRun('r-1');
    // Two commits of one run and one of another, all accepted before close() is called: the
    // second of r-1 waits in its run's queue behind the first, and close waits for both.
    const accepted = [
      startRun(store, first, 1),
      appendRun(store, { ...first, lastSeq: 1 }, 1),
      startRun(store, fixtureRun('r-2'), 2),
    ];
    const closing = store.close();
    expect((await Promise.allSettled(accepted)).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    await closing;
    await expect(startRun(store, fixtureRun('r-3'))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    if (!fixture.reopen) return; // the factory cannot restart this backend
    const reopened = await fixture.reopen();
    expect((await reopened.readHistory('r-1')).map((e) => e.seq)).toEqual([1, 2]);
    expect((await reopened.getRun('r-2'))?.lastSeq).toBe(2);
    expect(await reopened.getRun('r-3')).toBeUndefined();
  }));

  it('opens again after close, as the same object, with everything committed', withStore(async (store) => {
    const run = await startRun(store, fixtureRun('r-1'), 2);
    await store.close();
    await store.open();
    expect(await store.getRun('r-1')).toEqual(run);
    await appendRun(store, run, 1);
    expect((await store.readHistory('r-1')).map((e) => e.seq)).toEqual([1, 2, 3]);
  }));

  it('keeps everything committed across close and reopen', withStore(async (store, fixture) => {
    if (!fixture.reopen) return; // the factory cannot restart this backend
    const run = await startRun(store, fixtureRun('r-1', { workflowId: 'orders/7', idempotencyKey: 'idem-7' }), 2, {
      timers: { put: [timer('r-1', 'w', T0 + 5)] }, tasks: { put: [task('r-1', 'charge')] },
    });
    const done = await appendRun(store, run, 1, { status: 'completed', run: { closedAt: T0 + 9, output: { ok: true } } });
    const reopened = await fixture.reopen();
    expect(await reopened.getRun('r-1')).toEqual(done);
    expect(await reopened.readHistory('r-1')).toEqual(fixtureEvents(1, 3, done));
    expect(await reopened.getCurrentRunId('default', 'orders/7')).toBe('r-1');
    expect(await reopened.findRunByIdempotencyKey('default', 'idem-7')).toBe('r-1');
    expect(await reopened.nextTimer()).toEqual(timer('r-1', 'w', T0 + 5));
    expect(await reopened.listTasks()).toEqual([task('r-1', 'charge')]);
    expect((await reopened.listRuns({ namespace: 'default', status: 'completed' })).runs.map((r) => r.runId)).toEqual(['r-1']);
    await appendRun(reopened, done, 1);
    expect((await reopened.readHistory('r-1')).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  }));

  it('refuses every call after close with STORE_CLOSED, and closes twice harmlessly', withStore(async (store) => {
    await startRun(store, fixtureRun('r-1'));
    await store.close();
    await store.close();
    const closed = { code: 'STORE_CLOSED' };
    await expect(store.getRun('r-1')).rejects.toMatchObject(closed);
    await expect(store.getCurrentRunId('default', 'wf-r-1')).rejects.toMatchObject(closed);
    await expect(store.readHistory('r-1')).rejects.toMatchObject(closed);
    await expect(store.listRuns({ namespace: 'default' })).rejects.toMatchObject(closed);
    await expect(store.countRuns({ namespace: 'default' })).rejects.toMatchObject(closed);
    await expect(store.nextTimer()).rejects.toMatchObject(closed);
    await expect(store.listTasks()).rejects.toMatchObject(closed);
    await expect(store.listNamespaces()).rejects.toMatchObject(closed);
    await expect(store.deleteRun('r-1')).rejects.toMatchObject(closed);
    await expect(store.listSchedules({})).rejects.toMatchObject(closed);
    await expect(startRun(store, fixtureRun('r-2'))).rejects.toMatchObject(closed);
    expect(() => store.shards()).toThrow(/STORE_CLOSED/);
  }));

  it('tells batch observers of every durable batch until they stop, and ignores one that throws', withStore(async (store) => {
    if (!store.observeBatches) return; // the seam is optional: a store without batches has nothing to tell
    const batches: Array<Parameters<BatchObserver>[0]> = [];
    const stop = store.observeBatches((batch) => batches.push(batch));
    const stopThrowing = store.observeBatches(() => {
      throw new Error('a broken metrics exporter');
    });
    await Promise.all([1, 2, 3].map((i) => startRun(store, fixtureRun(`r-${i}`), 1)));
    expect(batches.length).toBeGreaterThanOrEqual(1);
    expect(batches.reduce((n, b) => n + b.commits, 0)).toBeGreaterThanOrEqual(3);
    for (const batch of batches) {
      expect(batch.commits >= 1 && batch.operations >= 1 && batch.ms >= 0).toBe(true);
    }
    stop();
    stopThrowing();
    const seen = batches.length;
    await startRun(store, fixtureRun('r-4'), 1);
    expect(batches).toHaveLength(seen);
    expect((await store.getRun('r-4'))?.lastSeq).toBe(1);
  }));
}

function timer(runId: string, id: string, dueAt: number): TimerEntry {
  return { runId, id, dueAt, kind: 'timer' };
}

function task(runId: string, activityId: string): TaskEntry {
  return { namespace: 'default', taskQueue: 'main', runId, activityId, attempt: 1 };
}
