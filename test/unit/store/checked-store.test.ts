import { describe, expect, it } from 'vitest';
import { CheckedStore, type CommitOutcome, type StoredEvent } from '../../../src/store/checked-store.ts';
import { SingleNodeShards } from '../../../src/store/single-node-shards.ts';
import type { RunCommit } from '../../../src/store/store.ts';
import type { RunRecord } from '../../../src/common/run-model.ts';
import { fixtureEvents, fixtureRun } from '../../../src/testing/store-fixtures.ts';

/**
 * A backend of nothing but the `_` methods, recording what reaches it: what the base lets
 * through, and in which order. Its commits take a turn of the event loop, like a real write.
 */
class RecordingStore extends CheckedStore {
  readonly calls: string[] = [];
  /** Commits of a run in flight now, at most: the base must keep this at 1. */
  maxConcurrentPerRun = 0;
  private readonly inFlight = new Map<string, number>();
  private readonly lastSeq = new Map<string, number>();
  private readonly ownership = new SingleNodeShards();

  protected async _open() { this.calls.push('open'); }
  protected async _close() { this.calls.push('close'); }
  protected _shards() { return this.ownership; }
  protected async _commit(commit: RunCommit): Promise<CommitOutcome> {
    const { runId } = commit.run;
    const n = (this.inFlight.get(runId) ?? 0) + 1;
    this.inFlight.set(runId, n);
    this.maxConcurrentPerRun = Math.max(this.maxConcurrentPerRun, n);
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.inFlight.set(runId, n - 1);
    if ((this.lastSeq.get(runId) ?? 0) !== commit.previousLastSeq) return 'stale';
    this.lastSeq.set(runId, commit.run.lastSeq);
    this.calls.push(`commit ${runId}#${commit.run.lastSeq}`);
    return 'written';
  }
  protected async _getRun(runId: string): Promise<RunRecord | undefined> {
    this.calls.push(`getRun ${runId}`);
    return undefined;
  }
  protected async _getCurrentRunId() { return undefined; }
  protected async _findRunByIdempotencyKey() { return undefined; }
  protected async _readHistory(): Promise<StoredEvent[]> { return []; }
  protected async _listDueTimers() { return []; }
  protected async _nextTimer() { return undefined; }
  protected async _listTasks() {
    this.calls.push('listTasks');
    return [];
  }
  protected async _listRuns() { return { runs: [] }; }
  protected async _countRuns() { return { count: 0 }; }
  protected async _getNamespace() { return undefined; }
  protected async _listNamespaces() { return []; }
  protected async _putNamespace() {}
  protected async _listClosedRuns() { return []; }
  protected async _deleteRun() { return true; }
  protected async _getSchedule() { return undefined; }
  protected async _putSchedule() {}
  protected async _deleteSchedule() {}
  protected async _listSchedules() { return { schedules: [] }; }
}

const commitOf = (runId: string, previousLastSeq: number): RunCommit => {
  const run = { ...fixtureRun(runId), lastSeq: previousLastSeq + 1 };
  return { run, previousLastSeq, previousStatus: previousLastSeq === 0 ? undefined : 'running', events: fixtureEvents(previousLastSeq + 1, 1, run) };
};

describe('CheckedStore', () => {
  it('opens its backend once for concurrent open() calls, and again only after close', async () => {
    const store = new RecordingStore();
    await Promise.all([store.open(), store.open(), store.open()]);
    await store.close();
    await store.open();
    expect(store.calls).toEqual(['open', 'close', 'open']);
  });

  it('hands a run\'s commits to the backend one at a time, in the order accepted', async () => {
    const store = new RecordingStore();
    await store.open();
    await Promise.all([commitOf('a', 0), commitOf('b', 0), commitOf('a', 1), commitOf('a', 2)].map((c) => store.commit(c)));
    expect(store.maxConcurrentPerRun).toBe(1);
    expect(store.calls.filter((c) => c.startsWith('commit a'))).toEqual(['commit a#1', 'commit a#2', 'commit a#3']);
  });

  it('turns a commit the backend finds stale into COMMIT_CONFLICT naming the run, and a malformed one into INVALID_ARGUMENT before the backend', async () => {
    const store = new RecordingStore();
    await store.open();
    await store.commit(commitOf('a', 0));
    await expect(store.commit(commitOf('a', 0))).rejects.toMatchObject({ code: 'COMMIT_CONFLICT', runId: 'a', message: expect.stringMatching(/first commit/) });
    await expect(store.commit(commitOf('a', 4))).rejects.toMatchObject({ code: 'COMMIT_CONFLICT', message: expect.stringMatching(/after event #4 from status "running"/) });
    const calls = store.calls.length;
    await expect(store.commit({ ...commitOf('a', 1), events: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.commit({ ...commitOf('a', 1), shard: 3 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.commit({ ...commitOf('a', 1), epoch: 9 })).rejects.toMatchObject({ code: 'SHARD_OWNERSHIP_LOST' });
    expect(store.calls).toHaveLength(calls);
  });

  it('lets accepted commits finish before it closes the backend, and lets no call through after', async () => {
    const store = new RecordingStore();
    await store.open();
    const accepted = [store.commit(commitOf('a', 0)), store.commit(commitOf('a', 1))];
    await store.close();
    await Promise.all(accepted);
    expect(store.calls).toEqual(['open', 'commit a#1', 'commit a#2', 'close']);
    await expect(store.getRun('a')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(store.commit(commitOf('b', 0))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(store.deleteRun('a')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    expect(store.calls.at(-1)).toBe('close');
  });

  it('asks a backend for no shard it does not have', async () => {
    const store = new RecordingStore();
    await store.open();
    expect(await store.listDueTimers(Date.now(), 10, 5)).toEqual([]);
    expect(await store.nextTimer(-1)).toBeUndefined();
    expect(await store.listTasks(1.5)).toEqual([]);
    expect(store.calls).not.toContain('listTasks');
    await store.listTasks(0);
    expect(store.calls).toContain('listTasks');
  });
});
