import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/common/run-model.ts';
import { MAX_TIMER_WAIT_MS, TimerService } from '../../../src/engine/runtime/timer-service.ts';
import type { Store, TimerEntry } from '../../../src/store/store.ts';
import { appendRun, fixtureRun, startRun } from '../../../src/testing/store-fixtures.ts';
import type { Clock } from '../../../src/common/clock.ts';
import { SteppedClock } from '../../helpers/stepped-clock.ts';
import { quietStore, withQuietStore } from '../../helpers/shard-harness.ts';
import { LevelStore } from '../../../src/store/level-store.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The durable timer service alone, over a real LevelStore: the store's timer index is the truth,
// each timer of its own run; firing one records it and deletes its index entry, as the engine's
// commit of TimerFired does.

interface Fired { id: string; at: number }

function timers(store: Store, clock: Clock) {
  const runs = new Map<string, RunRecord>();
  const fired: Fired[] = [];
  const failing = new Set<string>();
  const attempts = new Map<string, number>();
  const failedAt = new Map<string, number>();
  const entry = (id: string, dueAt: number): TimerEntry => ({ runId: `run-${id}`, id, kind: 'timer', dueAt });
  const service = new TimerService(store, clock, async (e) => {
    attempts.set(e.id, (attempts.get(e.id) ?? 0) + 1);
    if (failing.has(e.id)) failedAt.set(e.id, clock.now());
    if (failing.has(e.id)) throw new Error(`timer ${e.id} cannot fire now`);
    fired.push({ id: e.id, at: clock.now() });
    runs.set(e.runId, await appendRun(store, runs.get(e.runId)!, 1, { timers: { delete: [e] } }));
  });
  /** Commits a run with one timer due at `dueAt`; with `notify`, tells the service as the engine does after a commit. */
  const add = async (id: string, dueAt: number, notify = true) => {
    const e = entry(id, dueAt);
    runs.set(e.runId, await startRun(store, fixtureRun(e.runId), 1, { timers: { put: [e] } }));
    if (notify) service.notify(dueAt);
  };
  return { service, add, fired, failing, attempts, failedAt, ids: () => fired.map((f) => f.id) };
}

describe('TimerService', () => {
  it('fires the entries that are due, earliest first, each at its due time, and none early', () => withQuietStore(async ({ store, clock }) => {
    const t0 = clock.now();
    const { service, add, fired, ids } = timers(store, clock);
    await add('c', t0 + 3_000, false);
    await add('a', t0 + 1_000, false);
    await add('b', t0 + 2_000, false);
    service.start();
    await clock.advance(999);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([{ id: 'a', at: t0 + 1_000 }]);
    await clock.advance(5_000);
    expect(ids()).toEqual(['a', 'b', 'c']);
    expect(fired.map((f) => f.at)).toEqual([t0 + 1_000, t0 + 2_000, t0 + 3_000]);
    service.stop();
  }));

  it('fires at start what came due while it was not running', () => withQuietStore(async ({ store, clock }) => {
    const { service, add, ids } = timers(store, clock);
    await add('late', clock.now() - 60_000, false);
    service.start();
    await clock.advance(0);
    expect(ids()).toEqual(['late']);
    service.stop();
  }));

  it('re-arms when told of a timer earlier than the one it waits for', () => withQuietStore(async ({ store, clock }) => {
    const t0 = clock.now();
    const { service, add, fired } = timers(store, clock);
    await add('far', t0 + 60_000, false);
    service.start();
    await clock.advance(0);
    await add('near', t0 + 1_000);
    await clock.advance(1_000);
    expect(fired).toEqual([{ id: 'near', at: t0 + 1_000 }]);
    await clock.advance(59_000);
    expect(fired.map((f) => f.id)).toEqual(['near', 'far']);
    service.stop();
  }));

  it('fires a timer committed while idle once told of it, and not before its time', () => withQuietStore(async ({ store, clock }) => {
    const t0 = clock.now();
    const { service, add, fired } = timers(store, clock);
    service.start();
    await clock.advance(0);
    await add('only', t0 + 500);
    await clock.advance(499);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([{ id: 'only', at: t0 + 500 }]);
    service.stop();
  }));

  it('tries a failing entry again after its retry delay, without holding up the entries behind it', () => withQuietStore(async ({ store, clock }) => {
    const t0 = clock.now();
    const { service, add, fired, failing, attempts, failedAt, ids } = timers(store, clock);
    failing.add('stuck');
    await add('stuck', t0 + 1_000, false);
    await add('next', t0 + 1_000, false);
    await add('later', t0 + 1_500, false);
    service.start();
    await clock.advance(1_000);
    expect(ids()).toEqual(['next']);
    expect(attempts.get('stuck')).toBe(1);
    await clock.advance(500);
    expect(ids()).toEqual(['next', 'later']);
    // A wake-up for another entry may look at it again; nothing spins on it.
    const tried = attempts.get('stuck')!;
    expect(tried).toBeLessThanOrEqual(2);
    failing.delete('stuck');
    // With nothing else armed, its retry delay (1 s after it last failed) wakes the service for it.
    const retryAt = failedAt.get('stuck')! + 1_000;
    await clock.advanceTo(retryAt - 1);
    expect(ids()).toEqual(['next', 'later']);
    await clock.advanceTo(retryAt);
    expect(fired.at(-1)).toEqual({ id: 'stuck', at: retryAt });
    expect(attempts.get('stuck')).toBe(tried + 1);
    service.stop();
  }));

  it('stops cleanly: nothing fires after stop, nothing is left armed, and a notify does not arm again', () => withQuietStore(async ({ store, clock }) => {
    const t0 = clock.now();
    const { service, add, fired } = timers(store, clock);
    await add('a', t0 + 1_000, false);
    service.start();
    await clock.advance(0);
    expect(clock.pending).toBe(1);
    service.stop();
    expect(clock.pending).toBe(0);
    await add('b', t0 + 500);
    expect(clock.pending).toBe(0);
    await clock.advance(10_000);
    expect(fired).toEqual([]);
  }));

  it('after the wall clock steps back, wakes again and fires a timer at its due wall time, not at the elapsed time it was armed for', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'perdure-timers-'));
    const raw = new LevelStore({ directory, durability: 'os' });
    await raw.open();
    try {
      const { store } = quietStore(raw);
      const clock = new SteppedClock();
      const t0 = clock.now();
      const { service, add, fired } = timers(store, clock);
      await add('soon', t0 + 30_000, false);
      service.start();
      await clock.elapse(0);
      clock.step(-3_600_000);
      // The process timer armed for 30 s fires; the timer is an hour away on the wall clock now.
      await clock.elapse(30_000);
      expect(fired).toEqual([]);
      await clock.elapse(3_600_000 - MAX_TIMER_WAIT_MS);
      expect(fired).toEqual([]);
      await clock.elapse(MAX_TIMER_WAIT_MS);
      expect(fired.map((f) => f.id)).toEqual(['soon']);
      expect(fired[0]!.at).toBeGreaterThanOrEqual(t0 + 30_000);
      expect(fired[0]!.at).toBeLessThanOrEqual(t0 + 30_000 + MAX_TIMER_WAIT_MS);
      service.stop();
    } finally {
      await raw.close();
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('after the wall clock steps forward, fires what is now due within one bounded wait, not when its long wait ends', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'perdure-timers-'));
    const raw = new LevelStore({ directory, durability: 'os' });
    await raw.open();
    try {
      const { store } = quietStore(raw);
      const clock = new SteppedClock();
      const t0 = clock.now();
      const { service, add, fired } = timers(store, clock);
      await add('tomorrow', t0 + 86_400_000, false);
      service.start();
      await clock.elapse(0);
      clock.step(86_400_000);
      await clock.elapse(MAX_TIMER_WAIT_MS);
      expect(fired.map((f) => f.id)).toEqual(['tomorrow']);
      service.stop();
    } finally {
      await raw.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
