import type { Store, TaskEntry, TimerEntry } from '../store/store.ts';
import type { StoreFixture } from './store-conformance.ts';
import { fixtureEvents, fixtureRun, startRun, T0 } from './store-fixtures.ts';
import type { SuiteFunctions } from './suite-functions.ts';

type WithStore = (test: (store: Store, fixture: StoreFixture) => Promise<void>) => () => Promise<void>;

/**
 * The conformance cases of shards: what the engine's shard runtime relies on. A store open on
 * its own is a cluster of one node, which holds every shard; scans of a shard see that shard's
 * work only; a commit that names the wrong shard, or an epoch no longer held, is refused.
 */
export function shardConformanceCases(withStore: WithStore, { it, expect }: SuiteFunctions): void {
  it('holds every shard while it is the only node, and hashes ids into them', withStore(async (store) => {
    const shards = store.shards();
    expect(Number.isInteger(shards.shardCount) && shards.shardCount >= 1).toBe(true);
    expect([...shards.held().keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: shards.shardCount }, (_, i) => i));
    for (const id of ['a', 'order-42', 'z'.repeat(200)]) {
      const shard = shards.shardOf('default', id);
      expect(Number.isInteger(shard) && shard >= 0 && shard < shards.shardCount).toBe(true);
      expect(shards.shardOf('default', id)).toBe(shard);
    }
    const nodes = await shards.nodes();
    expect(nodes.map((n) => n.nodeId)).toEqual([shards.nodeId]);
    expect(await shards.ownerOf(0)).toMatchObject({ nodeId: shards.nodeId });
  }));

  it('scans a shard\'s timers and tasks apart from the other shards\'', withStore(async (store) => {
    const shards = store.shards();
    const runs = ['o-1', 'o-2', 'o-3', 'o-4', 'o-5', 'o-6'].map((id) => fixtureRun(`run-${id}`, { workflowId: id }));
    for (const run of runs) {
      await startRun(store, run, 1, { timers: { put: [timer(run.runId, T0 + 10)] }, tasks: { put: [task(run.runId)] } });
    }
    for (let shard = 0; shard < shards.shardCount; shard++) {
      const mine = runs.filter((r) => shards.shardOf(r.namespace, r.workflowId) === shard).map((r) => r.runId).sort();
      expect((await store.listDueTimers(T0 + 10, 100, shard)).map((t) => t.runId).sort()).toEqual(mine);
      expect((await store.listTasks(shard)).map((t) => t.runId).sort()).toEqual(mine);
      expect((await store.nextTimer(shard))?.runId).toBe(mine.length === 0 ? undefined : (await store.listDueTimers(T0 + 10, 1, shard))[0]!.runId);
    }
    expect(await store.listDueTimers(T0 + 10, 100)).toHaveLength(runs.length);
    expect(await store.listTasks()).toHaveLength(runs.length);
  }));

  it('refuses a commit that names another shard than its run\'s, or an epoch it does not hold', withStore(async (store) => {
    const shards = store.shards();
    const run = { ...fixtureRun('r-1'), lastSeq: 1 };
    const shard = shards.shardOf(run.namespace, run.workflowId);
    const epoch = shards.held().get(shard)!;
    const commit = { run, previousLastSeq: 0, events: fixtureEvents(1, 1, run) };
    await expect(store.commit({ ...commit, shard: shard + 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.commit({ ...commit, shard, epoch: epoch + 1 })).rejects.toMatchObject({ code: 'SHARD_OWNERSHIP_LOST' });
    expect(await store.getRun('r-1')).toBeUndefined();
    await store.commit({ ...commit, shard, epoch });
    expect(await store.getRun('r-1')).toMatchObject({ lastSeq: 1 });
  }));
}

function timer(runId: string, dueAt: number): TimerEntry {
  return { runId, id: 'wake', kind: 'timer', dueAt };
}

function task(runId: string): TaskEntry {
  return { namespace: 'default', taskQueue: 'q', runId, activityId: 'charge', attempt: 1 };
}
