import type { Store, TaskEntry, TimerEntry } from '../store/store.ts';
import type { RunSummary } from '../common/execution-types.ts';
import { appendRun, fixtureEvents, fixtureRun, startRun, T0 } from './store-fixtures.ts';
import { namespaceConformanceCases } from './store-conformance-namespaces.ts';
import { scheduleStoreCases } from './schedule-store-conformance.ts';
import { searchAttributeConformanceCases } from './store-conformance-search-attributes.ts';
import { visibilityConformanceCases } from './store-conformance-visibility.ts';
import { shardConformanceCases } from './store-conformance-shards.ts';
import { lifecycleConformanceCases } from './store-conformance-lifecycle.ts';
import { valueRangeConformanceCases } from './store-conformance-value-ranges.ts';
import type { SuiteFunctions } from './suite-functions.ts';

/** A fresh store made by a conformance factory, and how to get rid of it. */
export interface StoreFixture {
  /** An open, empty store that shares nothing with any other fixture. */
  store: Store;
  /**
   * Closes the current store and opens a new one over the same data, as a restarted server
   * would. Optional: without it the test of durability across restarts is skipped.
   */
  reopen?(): Promise<Store>;
  /** Closes whichever store is open (closing twice must be harmless) and removes its data. */
  cleanup(): Promise<void>;
}

/** Options of {@link storeConformanceSuite}. */
export interface StoreConformanceOptions {
  /** Shown in the describe block, e.g. `'LevelStore'`. */
  name: string;
  /** Called once per test: every test gets its own isolated store. */
  factory: () => Promise<StoreFixture>;
  /** The test runner's `describe`, `it` and `expect` (vitest's or Jest's). */
  test: SuiteFunctions;
}

/**
 * The behaviour every `Store` backend must have, as a test suite for vitest (or Jest). Run it from a test file
 * with a factory that makes fresh stores; the first test proves that the factory isolates them
 * (a suite over a shared store would pass for the wrong reasons).
 *
 * @example
 * // test/conformance/my-store.test.ts
 * import { describe, expect, it } from 'vitest'
 * import { storeConformanceSuite } from 'perdure/testing'
 * storeConformanceSuite({
 *   name: 'MyStore',
 *   factory: async () => {
 *     const store = new MyStore(await freshDatabase()); await store.open()
 *     return { store, cleanup: () => store.close() }
 *   },
 * })
 */
export function storeConformanceSuite({ name, factory, test: functions }: StoreConformanceOptions): void {
  const { describe, it, expect } = functions;
  const withStore = (test: (store: Store, fixture: StoreFixture) => Promise<void>) => async () => {
    const fixture = await factory();
    try {
      await test(fixture.store, fixture);
    } finally {
      await fixture.cleanup();
    }
  };

  describe(`Store conformance: ${name}`, () => {
    it('gives each factory call an isolated store', async () => {
      const [a, b] = await Promise.all([factory(), factory()]);
      try {
        await startRun(a.store, fixtureRun('r-1', { idempotencyKey: 'k' }), 1, {
          timers: { put: [timer('r-1', 'w', T0)] }, tasks: { put: [task('r-1', 'charge')] },
        });
        expect(await a.store.getRun('r-1')).toBeDefined();
        expect(await b.store.getRun('r-1')).toBeUndefined();
        expect(await b.store.readHistory('r-1')).toEqual([]);
        expect(await b.store.getCurrentRunId('default', 'wf-r-1')).toBeUndefined();
        expect(await b.store.findRunByIdempotencyKey('default', 'k')).toBeUndefined();
        expect(await b.store.nextTimer()).toBeUndefined();
        expect(await b.store.listTasks()).toEqual([]);
        expect((await b.store.listRuns({ namespace: 'default' })).runs).toEqual([]);
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it('returns a committed run record exactly as committed', withStore(async (store) => {
      const run = await startRun(store, fixtureRun('r-1', {
        output: { total: 12.5, lines: ['a', 'b'] }, blockedReason: undefined,
        activities: { charge: {
          activityId: 'charge', activityType: 'chargeCard', input: { cents: 1299 }, local: false, taskQueue: 'payments',
          options: { taskQueue: 'payments' }, attempt: 2, scheduledAt: T0, attemptReadyAt: T0 + 1000,
        } },
        timers: { remind: { timerId: 'remind', dueAt: T0 + 60_000, event: { type: 'REMIND', n: 1 } } },
      }), 2);
      expect(await store.getRun('r-1')).toEqual(run);
      expect(await store.getRun('missing')).toBeUndefined();
    }));

    it('appends history in seq order and reads it back from any position', withStore(async (store) => {
      const run = await startRun(store, fixtureRun('r-1'), 2);
      await appendRun(store, run, 3);
      const history = await store.readHistory('r-1');
      expect(history.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(history).toEqual(fixtureEvents(1, 5, run));
      expect((await store.readHistory('r-1', { fromSeq: 3 })).map((e) => e.seq)).toEqual([3, 4, 5]);
      expect((await store.readHistory('r-1', { fromSeq: 2, limit: 2 })).map((e) => e.seq)).toEqual([2, 3]);
      expect(await store.readHistory('missing')).toEqual([]);
    }));

    it('refuses a commit whose events leave a gap or do not match run.lastSeq', withStore(async (store) => {
      const run = await startRun(store, fixtureRun('r-1'), 2);
      const refused = { code: 'INVALID_ARGUMENT' };
      // events start after a gap
      await expect(store.commit({ run: { ...run, lastSeq: 4 }, previousLastSeq: 2, previousStatus: 'running', events: fixtureEvents(4, 1) })).rejects.toMatchObject(refused);
      // events not contiguous
      await expect(store.commit({ run: { ...run, lastSeq: 4 }, previousLastSeq: 2, previousStatus: 'running', events: [...fixtureEvents(3, 1), ...fixtureEvents(5, 1)] })).rejects.toMatchObject(refused);
      // run.lastSeq disagrees with the events
      await expect(store.commit({ run: { ...run, lastSeq: 9 }, previousLastSeq: 2, previousStatus: 'running', events: fixtureEvents(3, 1) })).rejects.toMatchObject(refused);
      expect((await store.readHistory('r-1')).map((e) => e.seq)).toEqual([1, 2]);
      expect(await store.getRun('r-1')).toEqual(run);
    }));

    it('refuses a commit that does not continue the stored run as a COMMIT_CONFLICT, not INVALID_ARGUMENT', withStore(async (store) => {
      const run = await startRun(store, fixtureRun('r-1'), 2);
      const conflict = { code: 'COMMIT_CONFLICT', runId: 'r-1' };
      // previousLastSeq is not where the stored history ends (stale or from the future)
      await expect(store.commit({ run: { ...run, lastSeq: 2 }, previousLastSeq: 1, previousStatus: 'running', events: fixtureEvents(2, 1) })).rejects.toMatchObject(conflict);
      await expect(store.commit({ run: { ...run, lastSeq: 6 }, previousLastSeq: 5, previousStatus: 'running', events: fixtureEvents(6, 1) })).rejects.toMatchObject(conflict);
      // the right place, but from another status than the stored one
      await expect(store.commit({ run: { ...run, lastSeq: 3 }, previousLastSeq: 2, previousStatus: 'completed', events: fixtureEvents(3, 1) })).rejects.toMatchObject(conflict);
      // a second "first commit" of the same run
      await expect(startRun(store, fixtureRun('r-1'), 1)).rejects.toMatchObject(conflict);
      expect((await store.readHistory('r-1')).map((e) => e.seq)).toEqual([1, 2]);
      expect(await store.getRun('r-1')).toEqual(run);
      // and the run goes on from where it is stored
      await appendRun(store, run, 1);
      expect((await store.getRun('r-1'))?.lastSeq).toBe(3);
    }));

    it('makes nothing of a refused commit visible', withStore(async (store) => {
      const run = await startRun(store, fixtureRun('r-1'), 1);
      const stale = { ...run, lastSeq: 3, status: 'completed' as const, idempotencyKey: 'k-stale', workflowId: 'other' };
      await expect(store.commit({
        run: stale, previousLastSeq: 2, previousStatus: 'running', events: fixtureEvents(3, 1),
        timers: { put: [timer('r-1', 't', T0)] }, tasks: { put: [task('r-1', 'charge')] },
      })).rejects.toMatchObject({ code: 'COMMIT_CONFLICT' });
      expect(await store.getRun('r-1')).toEqual(run);
      expect((await store.readHistory('r-1')).map((e) => e.seq)).toEqual([1]);
      expect(await store.nextTimer()).toBeUndefined();
      expect(await store.listTasks()).toEqual([]);
      expect(await store.findRunByIdempotencyKey('default', 'k-stale')).toBeUndefined();
      expect(await store.getCurrentRunId('default', 'other')).toBeUndefined();
      expect((await store.listRuns({ namespace: 'default', status: 'completed' })).runs).toEqual([]);
      // and the run goes on from where it really is
      await appendRun(store, run, 1);
      expect((await store.readHistory('r-1')).map((e) => e.seq)).toEqual([1, 2]);
    }));

    it('finds a run by its idempotency key, per namespace', withStore(async (store) => {
      await startRun(store, fixtureRun('r-1', { idempotencyKey: 'order-42/attempt' }));
      await startRun(store, fixtureRun('r-2', { namespace: 'other', idempotencyKey: 'order-42/attempt' }));
      expect(await store.findRunByIdempotencyKey('default', 'order-42/attempt')).toBe('r-1');
      expect(await store.findRunByIdempotencyKey('other', 'order-42/attempt')).toBe('r-2');
      expect(await store.findRunByIdempotencyKey('default', 'order-42')).toBeUndefined();
    }));

    it('points a workflow id at its latest run, keeping ids with slashes apart', withStore(async (store) => {
      const first = await startRun(store, fixtureRun('r-1', { workflowId: 'orders/42' }), 1);
      expect(await store.getCurrentRunId('default', 'orders/42')).toBe('r-1');
      await appendRun(store, first, 1, { status: 'completed', run: { closedAt: T0 + 5 } });
      expect(await store.getCurrentRunId('default', 'orders/42')).toBe('r-1');
      await startRun(store, fixtureRun('r-2', { workflowId: 'orders/42', startedAt: T0 + 10 }));
      expect(await store.getCurrentRunId('default', 'orders/42')).toBe('r-2');
      // "a" + "b/c" must not be confused with "a/b" + "c"
      await startRun(store, fixtureRun('r-3', { namespace: 'a', workflowId: 'b/c' }));
      await startRun(store, fixtureRun('r-4', { namespace: 'a/b', workflowId: 'c' }));
      expect(await store.getCurrentRunId('a', 'b/c')).toBe('r-3');
      expect(await store.getCurrentRunId('a/b', 'c')).toBe('r-4');
      expect(await store.getCurrentRunId('a', 'b')).toBeUndefined();
      expect(await store.getCurrentRunId('other', 'orders/42')).toBeUndefined();
    }));

    it('lists due timers earliest first and forgets deleted ones', withStore(async (store) => {
      const late = timer('r-1', 'late', T0 + 300), early = timer('r-2', 'early', T0 + 100, 'retry');
      const middle = timer('r-1', 'middle', T0 + 200, 'scheduleToClose');
      const run1 = await startRun(store, fixtureRun('r-1'), 1, { timers: { put: [late, middle] } });
      await startRun(store, fixtureRun('r-2'), 1, { timers: { put: [early] } });
      expect(await store.nextTimer()).toEqual(early);
      expect(await store.listDueTimers(T0 + 200, 10)).toEqual([early, middle]);
      expect(await store.listDueTimers(T0 + 199, 10)).toEqual([early]);
      expect(await store.listDueTimers(T0 + 1000, 2)).toEqual([early, middle]);
      expect(await store.listDueTimers(T0, 10)).toEqual([]);
      // one commit deletes a timer and re-arms another with the same id later (deletes apply first)
      const rearmed = { ...middle, dueAt: T0 + 400 };
      await appendRun(store, run1, 1, { timers: { delete: [middle, late], put: [rearmed, late] } });
      expect(await store.listDueTimers(T0 + 1000, 10)).toEqual([early, late, rearmed]);
      const run2 = (await store.getRun('r-2'))!;
      await appendRun(store, run2, 1, { timers: { delete: [early] } });
      expect(await store.nextTimer()).toEqual(late);
    }));

    it('keeps one task per activity until it is deleted', withStore(async (store) => {
      const run = await startRun(store, fixtureRun('r-1'), 1, { tasks: { put: [task('r-1', 'charge'), task('r-1', 'ship')] } });
      expect(sortTasks(await store.listTasks())).toEqual([task('r-1', 'charge'), task('r-1', 'ship')]);
      const retried = { ...task('r-1', 'charge'), attempt: 2 };
      const next = await appendRun(store, run, 1, { tasks: { delete: [task('r-1', 'charge')], put: [retried] } });
      expect(sortTasks(await store.listTasks())).toEqual([retried, task('r-1', 'ship')]);
      await appendRun(store, next, 1, { tasks: { delete: [retried, task('r-1', 'ship')] } });
      expect(await store.listTasks()).toEqual([]);
    }));

    it('lists runs newest first, filtered by status and type, paging over every row once', withStore(async (store) => {
      const runs = await Promise.all(Array.from({ length: 23 }, (_, i) => startRun(store, fixtureRun(`r-${i}`, {
        type: i % 2 === 0 ? 'order' : 'refund', startedAt: T0 + ((i * 7) % 23) * 1000,
      }))));
      const closed = await Promise.all(runs.filter((_, i) => i % 3 === 0).map((r) => appendRun(store, r, 1, { status: 'completed', run: { closedAt: r.startedAt + 1 } })));
      const latest = runs.map((r) => closed.find((c) => c.runId === r.runId) ?? r);
      const expected = (filter: (s: RunSummary) => boolean) => latest.map(summary).filter(filter).sort((a, b) => b.startedAt - a.startedAt);

      expect((await store.listRuns({ namespace: 'default' })).runs).toEqual(expected(() => true));
      expect((await store.listRuns({ namespace: 'default', status: 'running' })).runs).toEqual(expected((s) => s.status === 'running'));
      expect((await store.listRuns({ namespace: 'default', type: 'refund' })).runs).toEqual(expected((s) => s.type === 'refund'));
      expect((await store.listRuns({ namespace: 'default', status: 'completed', type: 'order' })).runs)
        .toEqual(expected((s) => s.status === 'completed' && s.type === 'order'));
      expect((await store.listRuns({ namespace: 'elsewhere' })).runs).toEqual([]);

      const paged: RunSummary[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await store.listRuns({ namespace: 'default', limit: 5, pageToken });
        expect(page.runs.length).toBeLessThanOrEqual(5);
        paged.push(...page.runs);
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken !== undefined);
      expect(pages).toBe(5);
      expect(paged).toEqual(expected(() => true));
    }));

    it('writes concurrent commits of many runs durably and completely', withStore(async (store) => {
      const count = 100;
      const started = await Promise.all(Array.from({ length: count }, (_, i) =>
        startRun(store, fixtureRun(`r-${i}`, { startedAt: T0 + i }), 2, { tasks: { put: [task(`r-${i}`, 'a')] } })));
      await Promise.all(started.map((run) => appendRun(store, run, 3, { timers: { put: [timer(run.runId, 't', T0 + 50)] } })));
      for (const run of started) {
        expect((await store.getRun(run.runId))?.lastSeq).toBe(5);
        expect((await store.readHistory(run.runId)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      }
      expect(await store.listTasks()).toHaveLength(count);
      expect(await store.listDueTimers(T0 + 50, 1000)).toHaveLength(count);
      expect((await store.listRuns({ namespace: 'default', limit: 1000 })).runs).toHaveLength(count);
    }));

    lifecycleConformanceCases(withStore, functions);
    namespaceConformanceCases(withStore, functions);
    scheduleStoreCases(factory, withStore, functions);
    searchAttributeConformanceCases(withStore, functions);
    visibilityConformanceCases(withStore, functions);
    shardConformanceCases(withStore, functions);
    valueRangeConformanceCases(withStore, functions);
  });
}

function timer(runId: string, id: string, dueAt: number, kind: TimerEntry['kind'] = 'timer'): TimerEntry {
  return { runId, id, dueAt, kind };
}

function task(runId: string, activityId: string): TaskEntry {
  return { namespace: 'default', taskQueue: 'main', runId, activityId, attempt: 1 };
}

function sortTasks(tasks: TaskEntry[]): TaskEntry[] {
  return [...tasks].sort((a, b) => `${a.runId}/${a.activityId}`.localeCompare(`${b.runId}/${b.activityId}`));
}

function summary(run: { runId: string; workflowId: string; type: string; version: string; status: RunSummary['status']; startedAt: number; closedAt?: number }): RunSummary {
  const s: RunSummary = { runId: run.runId, workflowId: run.workflowId, type: run.type, version: run.version, status: run.status, startedAt: run.startedAt };
  if (run.closedAt !== undefined) s.closedAt = run.closedAt;
  return s;
}
