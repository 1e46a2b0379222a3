import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { workflow } from '../../../src/definition/workflow.ts';
import { shardStore } from '../../../src/engine/runtime/shard-store.ts';
import type { RunCommit, Store } from '../../../src/store/store.ts';
import { fixtureEvents, fixtureRun, startRun, T0 } from '../../../src/testing/store-fixtures.ts';
import { withTempLevelStore } from '../../helpers/temp-store.ts';
import { withShard } from '../../helpers/shard-harness.ts';

// The store as one shard runtime sees it: the one place the fence (shard and epoch) is stamped.

/** The store, recording every commit and every scan it is asked for. */
function recording(store: Store) {
  const commits: RunCommit[] = [];
  const scans: Array<{ method: string; args: unknown[] }> = [];
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'commit') commits.push(args[0] as RunCommit);
        if (property === 'listDueTimers' || property === 'nextTimer' || property === 'listTasks') scans.push({ method: property, args });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, commits, scans };
}

const ticker = workflow(setup({}).createMachine({
  id: 'ticker', initial: 'waiting',
  states: { waiting: { after: { 1000: 'done' } }, done: { type: 'final' } },
}));

describe('shardStore', () => {
  it('stamps its shard and epoch on every commit, over whatever the caller put there', () => withTempLevelStore(async (raw) => {
    const { store, commits } = recording(raw);
    const epoch = raw.shards().held().get(0)!;
    const view = shardStore(store, 0, epoch);
    const run = { ...fixtureRun('r-1'), lastSeq: 1 };
    await view.commit({ run, previousLastSeq: 0, events: fixtureEvents(1, 1, run) });
    const next = { ...run, lastSeq: 2 };
    await view.commit({ run: next, previousLastSeq: 1, previousStatus: 'running', events: fixtureEvents(2, 1, next), shard: 7, epoch: epoch + 9 });
    expect(commits.map((c) => [c.shard, c.epoch])).toEqual([[0, epoch], [0, epoch]]);
    expect(await view.getRun('r-1')).toMatchObject({ lastSeq: 2 });
  }));

  it('has its commits refused once the epoch it was made with is no longer held, and nothing is written', () => withTempLevelStore(async (raw) => {
    const epoch = raw.shards().held().get(0)!;
    const stale = shardStore(raw, 0, epoch + 1);
    const run = { ...fixtureRun('r-1'), lastSeq: 1 };
    await expect(stale.commit({ run, previousLastSeq: 0, events: fixtureEvents(1, 1, run), epoch })).rejects.toMatchObject({ code: 'SHARD_OWNERSHIP_LOST' });
    expect(await raw.getRun('r-1')).toBeUndefined();
  }));

  it('scans its own shard\'s timers and tasks, and no other shard\'s', () => withTempLevelStore(async (raw) => {
    const run = fixtureRun('r-1');
    await startRun(raw, run, 1, {
      timers: { put: [{ runId: 'r-1', id: 'wake', kind: 'timer', dueAt: T0 + 10 }] },
      tasks: { put: [{ namespace: 'default', taskQueue: 'q', runId: 'r-1', activityId: 'a', attempt: 1 }] },
    });
    const { store, scans } = recording(raw);
    const epoch = raw.shards().held().get(0)!;
    const mine = shardStore(store, 0, epoch);
    expect((await mine.listDueTimers(T0 + 10, 10)).map((t) => t.runId)).toEqual(['r-1']);
    expect((await mine.nextTimer())?.runId).toBe('r-1');
    expect((await mine.listTasks()).map((t) => t.runId)).toEqual(['r-1']);
    expect(scans).toEqual([
      { method: 'listDueTimers', args: [T0 + 10, 10, 0] }, { method: 'nextTimer', args: [0] }, { method: 'listTasks', args: [0] },
    ]);
    // LevelDB has the one shard: a view of any other sees nothing of it.
    const other = shardStore(raw, 1, epoch);
    expect(await other.listDueTimers(T0 + 10, 10)).toEqual([]);
    expect(await other.nextTimer()).toBeUndefined();
    expect(await other.listTasks()).toEqual([]);
  }));

  it('stamps every commit a shard runtime makes in running a workflow, from its start to its timer and its close', async () => {
    let recorded: ReturnType<typeof recording> | undefined;
    await withShard({ workflows: [ticker], wrap: (store) => (recorded = recording(store)).store }, async (h) => {
      const { runId } = await h.shard.starter.start(ticker, 'default', 't-1', {});
      await h.clock.advance(1_000);
      expect(await h.store.getRun(runId)).toMatchObject({ status: 'completed' });
      const epoch = h.shard.epoch;
      expect(recorded!.commits.length).toBeGreaterThanOrEqual(2);
      expect(recorded!.commits.every((c) => c.shard === 0 && c.epoch === epoch)).toBe(true);
      expect(recorded!.scans.length).toBeGreaterThan(0);
      expect(recorded!.scans.every((s) => s.args.at(-1) === 0)).toBe(true);
    });
  });
});
