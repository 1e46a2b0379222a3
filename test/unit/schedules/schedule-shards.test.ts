import { describe, expect, it } from 'vitest';
import type { ScheduleRecord } from '../../../src/common/schedule-types.ts';
import { ScheduleShards, type ShardFollower } from '../../../src/schedules/schedule-shards.ts';
import { initialState } from '../../../src/schedules/schedule-state.ts';
import type { ClusterNode, ShardChange, ShardOwnership } from '../../../src/store/shard-ownership.ts';
import type { ListSchedulesPage, ScheduleStore } from '../../../src/store/store.ts';

/** Shards named in the schedule id (`s<shard>-…`), held as the test says, changes told at once. */
class FakeShards implements ShardOwnership {
  readonly shardCount = 4;
  readonly nodeId = 'me';
  readonly heldNow = new Map<number, number>();
  private listeners: ((change: ShardChange) => void)[] = [];
  shardOf(_namespace: string, id: string): number {
    return Number(/^s(\d+)-/.exec(id)![1]);
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

/** A store of schedule records whose listing can be held back, to lose a shard mid-load. */
function storeOf(ids: string[]): ScheduleStore & { gate?: Promise<void>; listings: number } {
  const records = ids.map((scheduleId): ScheduleRecord => ({
    namespace: 'default', scheduleId, spec: { interval: { every: '1m' }, timezone: 'UTC' },
    action: { workflowType: 'timer', workflowIdPrefix: scheduleId }, policies: { overlap: 'skip', catchupWindow: '1h' },
    state: initialState(false, undefined, 0), createdAt: 0, updatedAt: 0,
  }));
  const store = {
    gate: undefined as Promise<void> | undefined,
    listings: 0,
    async getSchedule() {
      return undefined;
    },
    async putSchedule() {},
    async deleteSchedule() {},
    async listSchedules(): Promise<ListSchedulesPage> {
      store.listings++;
      await store.gate;
      return { schedules: records };
    },
  };
  return store;
}

function follower() {
  const adopted: string[] = [];
  const dropped: number[][] = [];
  const f: ShardFollower = {
    adopt: (records) => adopted.push(...records.map((r) => r.scheduleId)),
    drop: (shards) => dropped.push([...shards].sort()),
    loadFailed: () => {},
  };
  return { f, adopted, dropped };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ScheduleShards', () => {
  it('loads only the schedules of the shards held at start, and refuses the others with SHARD_NOT_HELD', async () => {
    const ownership = new FakeShards();
    ownership.heldNow.set(1, 1);
    const { f, adopted } = follower();
    const shards = new ScheduleShards(ownership, storeOf(['s0-a', 's1-b', 's1-c', 's2-d']), f);
    await shards.start();
    expect(adopted).toEqual(['s1-b', 's1-c']);
    expect(() => shards.check('default', 's1-b')).not.toThrow();
    expect(() => shards.check('default', 's0-a')).toThrow(expect.objectContaining({ code: 'SHARD_NOT_HELD', shard: 0 }));
  });

  it('adopts the schedules of gained shards once loaded, and drops those of lost shards', async () => {
    const ownership = new FakeShards();
    const { f, adopted, dropped } = follower();
    const shards = new ScheduleShards(ownership, storeOf(['s0-a', 's1-b', 's2-d']), f);
    await shards.start();
    expect(adopted).toEqual([]);
    ownership.change({ gained: [0, 2], lost: [] });
    await settle();
    expect(adopted.sort()).toEqual(['s0-a', 's2-d']);
    expect(shards.holds('default', 's2-d')).toBe(true);
    ownership.change({ gained: [], lost: [2] });
    expect(dropped).toEqual([[2]]);
    expect(() => shards.check('default', 's2-d')).toThrow(expect.objectContaining({ code: 'SHARD_NOT_HELD' }));
    expect(shards.holds('default', 's0-a')).toBe(true);
  });

  it('adopts nothing of a shard lost while its schedules were being read, and refuses it until loaded', async () => {
    const ownership = new FakeShards();
    const store = storeOf(['s0-a', 's3-z']);
    const { f, adopted, dropped } = follower();
    const shards = new ScheduleShards(ownership, store, f);
    await shards.start();
    let open!: () => void;
    store.gate = new Promise((resolve) => (open = resolve));
    ownership.change({ gained: [0, 3], lost: [] });
    await settle();
    expect(() => shards.check('default', 's3-z'), 'held but not loaded yet').toThrow(expect.objectContaining({ code: 'SHARD_NOT_HELD' }));
    ownership.change({ gained: [], lost: [3] });
    open();
    await settle();
    await settle();
    expect(adopted).toEqual(['s0-a']);
    expect(dropped, 'nothing was adopted of shard 3, so nothing is dropped').toEqual([]);
    expect(shards.holds('default', 's3-z')).toBe(false);
  });

  it('stops following at stop: later gains load nothing', async () => {
    const ownership = new FakeShards();
    const store = storeOf(['s0-a']);
    const { f, adopted } = follower();
    const shards = new ScheduleShards(ownership, store, f);
    await shards.start();
    shards.stop();
    ownership.change({ gained: [0], lost: [] });
    await settle();
    expect(adopted).toEqual([]);
    expect(store.listings, 'no shard was ever held: nothing was read').toBe(0);
  });
});
