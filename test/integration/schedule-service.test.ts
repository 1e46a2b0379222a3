import { afterEach, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { timerWorkflow } from '../../machines/timer.ts';
import type { ScheduleOptions } from '../../src/common/schedule-types.ts';
import type { Store } from '../../src/store/store.ts';
import { everyMinute, iso, MIN, startScheduleEnv, T0, type ScheduleEnv } from '../helpers/schedules.ts';

// The schedule service on a real engine and LevelDB, on virtual time: an hour of schedule passes
// in milliseconds, and every time asserted is the exact virtual time, not a measurement.

let env: ScheduleEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

async function start(wrapStore?: (store: Store) => Store): Promise<ScheduleEnv> {
  env = await startScheduleEnv({ workflows: [timerWorkflow, approvalWorkflow], startAt: T0, wrapStore });
  return env;
}

describe('the schedule service (engine + TestClock)', () => {
  it('starts a workflow at each interval time, with an id made of the schedule id and the nominal time', async () => {
    const { schedules, clock, engine } = await start();
    const created = await schedules.create(everyMinute('tick', 1000));
    expect(created.state.nextActionAt).toBe(T0 + MIN);
    expect(created.futureActionTimes).toEqual([1, 2, 3, 4, 5].map((n) => T0 + n * MIN));

    await clock.advance('3m');
    const { state } = await schedules.describe({ scheduleId: 'tick' });
    expect(state.counts).toEqual({ taken: 3, skipped: 0, missed: 0, failed: 0 });
    expect(state.recentActions.map((a) => [a.workflowId, a.nominalTime, a.actualTime])).toEqual([1, 2, 3].map((n) => [`tick-${iso(T0 + n * MIN)}`, T0 + n * MIN, T0 + n * MIN]));
    expect(state.nextActionAt).toBe(T0 + 4 * MIN);
    for (const action of state.recentActions) {
      const run = await engine.describe({ workflowId: action.workflowId });
      expect(run).toMatchObject({ runId: action.runId, type: 'timer', startedAt: action.nominalTime });
    }
  });

  it('reads cron expressions in the schedule\'s time zone', async () => {
    const { schedules, clock } = await start();
    const created = await schedules.create({
      scheduleId: 'paris-9am', spec: { cron: '0 9 * * *', timezone: 'Europe/Paris' }, action: { workflowType: 'timer', input: { ms: 1 } },
    });
    // 09:00 in Paris in January is 08:00 UTC.
    expect(created.futureActionTimes.slice(0, 2)).toEqual([Date.UTC(2030, 0, 1, 8), Date.UTC(2030, 0, 2, 8)]);
    await clock.advance('2d');
    const { state } = await schedules.describe({ scheduleId: 'paris-9am' });
    expect(state.recentActions.map((a) => a.workflowId)).toEqual([`paris-9am-2030-01-01T08:00:00.000Z`, `paris-9am-2030-01-02T08:00:00.000Z`]);
  });

  it('skips actions while the previous workflow is open (overlap "skip", the default)', async () => {
    const { schedules, clock } = await start();
    await schedules.create(everyMinute('skipper', 150_000)); // each run sleeps 2.5 min
    await clock.advance('4m');
    const { state } = await schedules.describe({ scheduleId: 'skipper' });
    // 1m starts (open until 3m30s); 2m and 3m are skipped; 4m starts.
    expect(state.recentActions.map((a) => a.nominalTime)).toEqual([T0 + MIN, T0 + 4 * MIN]);
    expect(state.counts).toMatchObject({ taken: 2, skipped: 2 });
  });

  it('buffers one action while a workflow is open and starts it when that one closes (overlap "bufferOne")', async () => {
    const { schedules, clock } = await start();
    await schedules.create(everyMinute('buffered', 150_000, { policies: { overlap: 'bufferOne' } }));
    await clock.advance('2m');
    expect((await schedules.describe({ scheduleId: 'buffered' })).state.bufferedAt).toBe(T0 + 2 * MIN);
    await clock.advance('2m');
    const { state } = await schedules.describe({ scheduleId: 'buffered' });
    // 1m runs until 3m30s; 2m waits in the buffer and starts at 3m30s; 3m finds the buffer full;
    // 4m finds 2m's run open and takes the buffer.
    expect(state.recentActions.map((a) => [a.nominalTime, a.actualTime])).toEqual([[T0 + MIN, T0 + MIN], [T0 + 2 * MIN, T0 + 3.5 * MIN]]);
    expect(state.counts).toMatchObject({ taken: 2, skipped: 1 });
    expect(state.bufferedAt).toBe(T0 + 4 * MIN);
  });

  it('starts every action whatever is open (overlap "allowAll")', async () => {
    const { schedules, clock, engine } = await start();
    await schedules.create(everyMinute('all', 150_000, { policies: { overlap: 'allowAll' } }));
    await clock.advance('4m');
    const { state } = await schedules.describe({ scheduleId: 'all' });
    expect(state.counts).toMatchObject({ taken: 4, skipped: 0 });
    const running = await engine.count({ status: 'running', workflowIdPrefix: 'all-' });
    expect(running.count).toBe(3); // 1m's run closed at 3m30s; those of 2m, 3m and 4m sleep on
  });

  it('takes no action while paused, and goes on from the next time after unpausing without catching up', async () => {
    const { schedules, clock } = await start();
    await schedules.create(everyMinute('sleepy', 1000));
    await clock.advance('1m');
    const paused = await schedules.pause({ scheduleId: 'sleepy' }, 'maintenance');
    expect(paused.state).toMatchObject({ paused: true, note: 'maintenance' });
    await clock.advance('5m');
    expect((await schedules.describe({ scheduleId: 'sleepy' })).state.counts).toMatchObject({ taken: 1, skipped: 0, missed: 0 });
    await clock.advance('30s');
    const resumed = await schedules.unpause({ scheduleId: 'sleepy' });
    expect(resumed.state).toMatchObject({ paused: false, nextActionAt: T0 + 7 * MIN });
    expect(resumed.state.note).toBeUndefined();
    await clock.advance('1m');
    const { state } = await schedules.describe({ scheduleId: 'sleepy' });
    expect(state.recentActions.map((a) => a.nominalTime)).toEqual([T0 + MIN, T0 + 7 * MIN]);
    expect(state.counts).toMatchObject({ taken: 2, skipped: 0, missed: 0 });
  });

  it('triggers an action now: started, skipped while one is open, or started anyway with overlap "allowAll"', async () => {
    const { schedules, clock } = await start();
    await schedules.create({ ...everyMinute('manual', 600_000), paused: true, note: 'manual only' });
    await clock.advance('10s');
    const first = await schedules.trigger({ scheduleId: 'manual' });
    expect(first).toEqual({ outcome: 'started', workflowId: `manual-${iso(T0 + 10_000)}`, runId: expect.any(String) });
    await clock.advance('10s');
    expect(await schedules.trigger({ scheduleId: 'manual' })).toEqual({ outcome: 'skipped', reason: expect.stringContaining('allowAll') });
    const forced = await schedules.trigger({ scheduleId: 'manual' }, { overlap: 'allowAll' });
    expect(forced).toMatchObject({ outcome: 'started', workflowId: `manual-${iso(T0 + 20_000)}` });
    const { state } = await schedules.describe({ scheduleId: 'manual' });
    expect(state.recentActions.map((a) => a.triggered)).toEqual([true, true]);
    expect(state.counts).toMatchObject({ taken: 2, skipped: 1 });
    expect(state.paused).toBe(true);
  });

  it('updates the spec and policies, keeping the counts, and deletes a schedule without touching its workflows', async () => {
    const { schedules, clock, engine } = await start();
    await schedules.create(everyMinute('changing', 1000));
    await clock.advance('1m');
    const updated = await schedules.update({ scheduleId: 'changing' }, { spec: { interval: { every: '1h', offset: '30m' } }, policies: { overlap: 'allowAll' } });
    expect(updated.state).toMatchObject({ nextActionAt: T0 + 30 * MIN, counts: { taken: 1 } });
    expect(updated.policies).toEqual({ overlap: 'allowAll', catchupWindow: '365d' });
    await clock.advance('30m');
    expect((await schedules.describe({ scheduleId: 'changing' })).state.counts.taken).toBe(2);

    await schedules.delete({ scheduleId: 'changing' });
    await expect(schedules.describe({ scheduleId: 'changing' })).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    await expect(schedules.delete({ scheduleId: 'changing' })).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    await clock.advance('2h');
    expect((await engine.count({ workflowIdPrefix: 'changing-' })).count).toBe(2);
    expect((await schedules.list()).schedules).toEqual([]);
  });

  it('lists a namespace\'s schedules by id, apart from other namespaces', async () => {
    const { schedules } = await start();
    for (const id of ['b', 'a', 'c']) await schedules.create(everyMinute(id, 1000));
    await schedules.create({ ...everyMinute('a', 1000), namespace: 'other' });
    await expect(schedules.create(everyMinute('a', 1000))).rejects.toMatchObject({ code: 'SCHEDULE_ALREADY_EXISTS' });
    const page = await schedules.list({ limit: 2 });
    expect(page.schedules.map((s) => s.scheduleId)).toEqual(['a', 'b']);
    const rest = await schedules.list({ limit: 2, pageToken: page.nextPageToken });
    expect(rest).toEqual({ schedules: [expect.objectContaining({ scheduleId: 'c', workflowType: 'timer', paused: false, nextActionAt: T0 + MIN })] });
    expect((await schedules.list({ namespace: 'other' })).schedules.map((s) => s.scheduleId)).toEqual(['a']);
  });

  it('refuses a bad spec, action or policy with INVALID_ARGUMENT naming it, and an unknown workflow type', async () => {
    const { schedules } = await start();
    const action = { workflowType: 'timer' };
    const refused = async (options: unknown, code: string, message: RegExp) => {
      const error = await schedules.create(options as ScheduleOptions).then(() => undefined, (e: Error & { code?: string }) => e);
      expect(error?.code).toBe(code);
      expect(error?.message).toMatch(message);
    };
    await refused({ scheduleId: 's', spec: { cron: '61 * * * *' }, action }, 'INVALID_ARGUMENT', /spec\.cron: "61 \* \* \* \*" is not a valid cron expression \(Invalid value for minute: 61\)/);
    await refused({ scheduleId: 's', spec: { cron: ['0 9 * * *', 'every day'] }, action }, 'INVALID_ARGUMENT', /spec\.cron\[1\]: "every day" is not a valid cron expression/);
    await refused({ scheduleId: 's', spec: { cron: '0 0 30 2 *' }, action }, 'INVALID_ARGUMENT', /names no time after now/);
    await refused({ scheduleId: 's', spec: { cron: '0 9 * * *', timezone: 'Mars/Olympus' }, action }, 'INVALID_ARGUMENT', /spec\.timezone: "Mars\/Olympus" is not an IANA time zone/);
    await refused({ scheduleId: 's', spec: { interval: { every: '500ms' } }, action }, 'INVALID_ARGUMENT', /spec\.interval\.every must be at least 1 s/);
    await refused({ scheduleId: 's', spec: { interval: { every: '1m', offset: '1m' } }, action }, 'INVALID_ARGUMENT', /offset .* must be shorter than/);
    await refused({ scheduleId: 's', spec: { interval: { every: 'soon' } }, action }, 'INVALID_ARGUMENT', /spec\.interval\.every: expected a duration/);
    await refused({ scheduleId: 's', spec: {}, action }, 'INVALID_ARGUMENT', /give `cron`.*or `interval`/);
    await refused({ scheduleId: 's', spec: { crons: '* * * * *' }, action }, 'INVALID_ARGUMENT', /crons/);
    await refused({ scheduleId: 's', spec: { interval: { every: '1m' } }, action, policies: { overlap: 'sometimes' } }, 'INVALID_ARGUMENT', /policies\.overlap/);
    await refused({ scheduleId: 's', spec: { interval: { every: '1m' } }, action, policies: { catchupWindow: 0 } }, 'INVALID_ARGUMENT', /catchupWindow must be at least 1 s/);
    await refused({ scheduleId: '', spec: { interval: { every: '1m' } }, action }, 'INVALID_ARGUMENT', /scheduleId/);
    await refused({ scheduleId: 's', spec: { interval: { every: '1m' } }, action: { workflowType: 'nope' } }, 'WORKFLOW_TYPE_NOT_FOUND', /"nope"/);
    expect((await schedules.list()).schedules).toEqual([]);
  });
});
