import { afterEach, describe, expect, it } from 'vitest';
import { timerWorkflow } from '../../machines/timer.ts';
import type { ScheduleEngine } from '../../src/schedules/schedule-engine.ts';
import { ScheduleService } from '../../src/schedules/schedule-service.ts';
import type { ClusterNode, ShardChange, ShardOwnership } from '../../src/store/shard-ownership.ts';
import type { ScheduleStore } from '../../src/store/store.ts';
import { eventually } from '../helpers/engine.ts';
import { everyMinute, iso, MIN, startScheduleEnv, T0, type ScheduleEnv } from '../helpers/schedules.ts';

// Two schedule services on one engine and store, on virtual time, standing for two nodes: each
// runs only the schedules of the shards it holds, and a shard moved from one to the other takes
// its schedules with it — each nominal time taken once, by whichever holds the shard then.

/** Two shards: ids starting with "one-" are in shard 1, the others in shard 0. Changes told at once. */
class MovableShards implements ShardOwnership {
  readonly shardCount = 2;
  readonly heldNow: Map<number, number>;
  private listeners: ((change: ShardChange) => void)[] = [];
  constructor(readonly nodeId: string, held: number[]) {
    this.heldNow = new Map(held.map((s) => [s, 1]));
  }
  shardOf(_namespace: string, id: string): number {
    return id.startsWith('one-') ? 1 : 0;
  }
  held(): ReadonlyMap<number, number> {
    return this.heldNow;
  }
  holds(shard: number): boolean {
    return this.heldNow.has(shard);
  }
  subscribe(listener: (change: ShardChange) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  change(change: ShardChange): void {
    for (const s of change.gained) this.heldNow.set(s, 1);
    for (const s of change.lost) this.heldNow.delete(s);
    for (const listener of this.listeners) listener(change);
  }
  async nodes(): Promise<ClusterNode[]> {
    return [];
  }
  async ownerOf(): Promise<ClusterNode | undefined> {
    return undefined;
  }
}

/**
 * The engine's store as the services see it: the LevelDB store has its one shard, so its shard
 * filter would find no schedule in the test's shard 1; the services filter by their own shards.
 */
function unsharded(store: ScheduleStore): ScheduleStore {
  return {
    getSchedule: (namespace, scheduleId) => store.getSchedule(namespace, scheduleId),
    putSchedule: (record) => store.putSchedule(record),
    deleteSchedule: (namespace, scheduleId) => store.deleteSchedule(namespace, scheduleId),
    listSchedules: ({ shards: _shards, ...query }) => store.listSchedules(query),
  };
}

let env: ScheduleEnv | undefined;
const others: ScheduleService[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((s) => s.stop()));
  await env?.cleanup();
  env = undefined;
});

describe('schedules follow their shards', () => {
  it('runs a schedule only where its shard is held, and goes on from its record where the shard moves', async () => {
    env = await startScheduleEnv({ workflows: [timerWorkflow], startAt: T0 });
    const { engine, clock } = env;
    const first = new MovableShards('first', [0, 1]);
    const second = new MovableShards('second', [0]);
    const onFirst = await ScheduleService.start({ engine, store: unsharded(engine.store), clock, shards: first });
    const onSecond = await ScheduleService.start({ engine, store: unsharded(engine.store), clock, shards: second });
    others.push(onFirst, onSecond);
    const settle = async () => Promise.all([onFirst.idle(), onSecond.idle()]);

    await onFirst.create(everyMinute('one-tick', 10));
    await expect(onSecond.describe({ scheduleId: 'one-tick' })).rejects.toMatchObject({ code: 'SHARD_NOT_HELD', shard: 1 });
    await expect(onSecond.create(everyMinute('one-other', 10))).rejects.toMatchObject({ code: 'SHARD_NOT_HELD' });
    for (let i = 0; i < 3; i++) {
      await clock.advance('1m');
      await settle();
    }
    expect((await onFirst.describe({ scheduleId: 'one-tick' })).state.counts.taken).toBe(3);

    // The shard moves: lost by the first (its timer disarmed), gained by the second (loaded from the store).
    first.change({ gained: [], lost: [1] });
    second.change({ gained: [1], lost: [] });
    await settle();
    await expect(onFirst.describe({ scheduleId: 'one-tick' })).rejects.toMatchObject({ code: 'SHARD_NOT_HELD' });
    expect((await onSecond.describe({ scheduleId: 'one-tick' })).state.counts.taken).toBe(3);
    for (let i = 0; i < 3; i++) {
      await clock.advance('1m');
      await settle();
    }
    const { state } = await onSecond.describe({ scheduleId: 'one-tick' });
    expect(state.counts).toEqual({ taken: 6, skipped: 0, missed: 0, failed: 0 });
    expect(state.recentActions.map((a) => a.workflowId)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `one-tick-${iso(T0 + n * MIN)}`));
    const runs = await engine.list({ workflowIdPrefix: 'one-tick-' });
    expect(runs.runs).toHaveLength(6);
  });
});

describe('a shard lost while an action is under way', () => {
  it('abandons the action safely: the new owner takes that nominal time, and it is started and counted once', async () => {
    env = await startScheduleEnv({ workflows: [timerWorkflow], startAt: T0 });
    const { engine, clock } = env;
    const first = new MovableShards('first', [0, 1]);
    const second = new MovableShards('second', [0]);
    // The first node's starts wait for the test: the shard moves while one is under way.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let startsBegun = 0;
    const gated: ScheduleEngine = {
      start: async (type, options) => {
        startsBegun++;
        await gate;
        return engine.start(type, options);
      },
      describe: (ref) => engine.describe(ref),
      result: (ref) => engine.result(ref),
      registry: engine.registry,
    };
    const onFirst = await ScheduleService.start({ engine: gated, store: unsharded(engine.store), clock, shards: first });
    const onSecond = await ScheduleService.start({ engine, store: unsharded(engine.store), clock, shards: second });
    others.push(onFirst, onSecond);

    await onFirst.create(everyMinute('one-tick', 10));
    await clock.advance('1m');
    await eventually(() => (startsBegun === 1 ? true : undefined));
    first.change({ gained: [], lost: [1] });
    second.change({ gained: [1], lost: [] });
    await onSecond.idle(); // the second loads the record (the action not yet recorded) and takes it
    release();
    await onFirst.idle(); // the first's start returns the run the second made (same idempotency key); its write is refused
    const { state } = await onSecond.describe({ scheduleId: 'one-tick' });
    expect(state.counts).toEqual({ taken: 1, skipped: 0, missed: 0, failed: 0 });
    expect(state.recentActions.map((a) => a.workflowId)).toEqual([`one-tick-${iso(T0 + MIN)}`]);
    expect((await engine.list({ workflowIdPrefix: 'one-tick-' })).runs).toHaveLength(1);
    expect((await engine.store.getSchedule('default', 'one-tick'))?.state.counts.taken, 'the record counts the action once').toBe(1);
  });
});
