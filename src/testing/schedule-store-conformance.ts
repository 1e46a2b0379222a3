import type { SuiteFunctions } from './suite-functions.ts';
import type { ScheduleRecord } from '../common/schedule-types.ts';
import type { Store } from '../store/store.ts';
import type { StoreFixture } from './store-conformance.ts';
import { T0 } from './store-fixtures.ts';

/**
 * A schedule record for store tests.
 *
 * @example
 * await store.putSchedule(fixtureSchedule('default', 'nightly', { state: { …, paused: true } }))
 */
export function fixtureSchedule(namespace: string, scheduleId: string, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    namespace,
    scheduleId,
    spec: { cron: ['0 2 * * *'], interval: { every: '1h', offset: '5m' }, timezone: 'Europe/Paris' },
    action: { workflowType: 'report', input: { kind: 'daily', tags: ['a', 'naïve ✓'] }, workflowIdPrefix: scheduleId },
    policies: { overlap: 'bufferOne', catchupWindow: '1h' },
    state: {
      paused: false,
      nextActionAt: T0 + 3_600_000,
      bufferedAt: T0,
      recentActions: [{ nominalTime: T0, actualTime: T0 + 3, workflowId: `${scheduleId}-x`, runId: 'r-1', triggered: true }],
      counts: { taken: 1, skipped: 2, missed: 3, failed: 0 },
    },
    createdAt: T0,
    updatedAt: T0 + 1,
    ...overrides,
  };
}

/** The schedule cases of the store conformance suite (called from `storeConformanceSuite`). */
export function scheduleStoreCases(
  factory: () => Promise<StoreFixture>,
  withStore: (test: (store: Store, fixture: StoreFixture) => Promise<void>) => () => Promise<void>,
  { it, expect }: SuiteFunctions,
): void {
  it('keeps schedules of one factory store out of another', async () => {
    const [a, b] = await Promise.all([factory(), factory()]);
    try {
      await a.store.putSchedule(fixtureSchedule('default', 'nightly'));
      expect(await a.store.getSchedule('default', 'nightly')).toBeDefined();
      expect(await b.store.getSchedule('default', 'nightly')).toBeUndefined();
      expect((await b.store.listSchedules({})).schedules).toEqual([]);
    } finally {
      await Promise.all([a.cleanup(), b.cleanup()]);
    }
  });

  it('returns a schedule exactly as put, and the latest put of the same id', withStore(async (store) => {
    const first = fixtureSchedule('default', 'nightly');
    await store.putSchedule(first);
    expect(await store.getSchedule('default', 'nightly')).toEqual(first);
    const next = fixtureSchedule('default', 'nightly', {
      state: { ...first.state, nextActionAt: T0 + 7_200_000, counts: { ...first.state.counts, taken: 2 } },
    });
    await store.putSchedule(next);
    expect(await store.getSchedule('default', 'nightly')).toEqual(next);
    expect(await store.getSchedule('other', 'nightly')).toBeUndefined();
    expect(await store.getSchedule('default', 'missing')).toBeUndefined();
  }));

  it('deletes a schedule, and deleting a missing one is harmless', withStore(async (store) => {
    await store.putSchedule(fixtureSchedule('default', 'a'));
    await store.putSchedule(fixtureSchedule('default', 'b'));
    await store.deleteSchedule('default', 'a');
    await store.deleteSchedule('default', 'never-there');
    expect(await store.getSchedule('default', 'a')).toBeUndefined();
    expect((await store.listSchedules({ namespace: 'default' })).schedules.map((s) => s.scheduleId)).toEqual(['b']);
  }));

  it('lists schedules by namespace and id, keeping ids with slashes apart, paging over each once', withStore(async (store) => {
    const ids = Array.from({ length: 23 }, (_, i) => `s-${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => store.putSchedule(fixtureSchedule('default', id))));
    await store.putSchedule(fixtureSchedule('a', 'b/c'));
    await store.putSchedule(fixtureSchedule('a/b', 'c'));

    expect((await store.listSchedules({ namespace: 'default', limit: 1000 })).schedules.map((s) => s.scheduleId)).toEqual(ids);
    expect((await store.listSchedules({ namespace: 'a' })).schedules.map((s) => s.scheduleId)).toEqual(['b/c']);
    expect((await store.listSchedules({ namespace: 'a/b' })).schedules.map((s) => s.scheduleId)).toEqual(['c']);
    expect((await store.listSchedules({ namespace: 'elsewhere' })).schedules).toEqual([]);
    expect((await store.listSchedules({})).schedules).toHaveLength(25);

    const paged: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await store.listSchedules({ namespace: 'default', limit: 5, pageToken });
      expect(page.schedules.length).toBeLessThanOrEqual(5);
      paged.push(...page.schedules.map((s) => s.scheduleId));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== undefined);
    expect(pages).toBe(5);
    expect(paged).toEqual(ids);
  }));

  it('lists only the schedules of the shards asked for, each in the shard the store hashes it to', withStore(async (store) => {
    const ids = Array.from({ length: 12 }, (_, i) => `by-shard-${i}`);
    await Promise.all(ids.map((id) => store.putSchedule(fixtureSchedule('default', id))));
    const ownership = store.shards();
    const shardOf = (id: string) => ownership.shardOf('default', id);
    const some = [...new Set(ids.slice(0, 3).map(shardOf))];
    const listed = (await store.listSchedules({ shards: some, limit: 1000 })).schedules.map((s) => s.scheduleId);
    expect(listed).toEqual(ids.filter((id) => some.includes(shardOf(id))).sort());
    expect((await store.listSchedules({ shards: [] })).schedules).toEqual([]);
    const all = [...Array(ownership.shardCount).keys()];
    expect((await store.listSchedules({ shards: all, limit: 1000 })).schedules).toHaveLength(ids.length);
    await expect(store.listSchedules({ shards: [-1] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  }));

  it('refuses a page token of another listing', withStore(async (store) => {
    await Promise.all(['x', 'y'].map((id) => store.putSchedule(fixtureSchedule('one', id))));
    const { nextPageToken } = await store.listSchedules({ namespace: 'one', limit: 1 });
    expect(nextPageToken).toBeDefined();
    await expect(store.listSchedules({ namespace: 'two', pageToken: nextPageToken })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  }));

  it('keeps schedules across close and reopen', withStore(async (store, fixture) => {
    if (!fixture.reopen) return; // the factory cannot restart this backend
    const record = fixtureSchedule('default', 'nightly');
    await store.putSchedule(record);
    await store.putSchedule(fixtureSchedule('default', 'gone'));
    await store.deleteSchedule('default', 'gone');
    const reopened = await fixture.reopen();
    expect(await reopened.getSchedule('default', 'nightly')).toEqual(record);
    expect((await reopened.listSchedules({})).schedules).toEqual([record]);
  }));

  it('refuses schedule calls after close with STORE_CLOSED', withStore(async (store) => {
    await store.close();
    const closed = { code: 'STORE_CLOSED' };
    await expect(store.getSchedule('default', 'nightly')).rejects.toMatchObject(closed);
    await expect(store.putSchedule(fixtureSchedule('default', 'nightly'))).rejects.toMatchObject(closed);
    await expect(store.deleteSchedule('default', 'nightly')).rejects.toMatchObject(closed);
    await expect(store.listSchedules({})).rejects.toMatchObject(closed);
  }));
}
