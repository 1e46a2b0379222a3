import { afterEach, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { timerWorkflow } from '../../machines/timer.ts';
import { StoreFailedError } from '../../src/common/errors.ts';
import type { Store } from '../../src/store/store.ts';
import { everyMinute, iso, MIN, startScheduleEnv, T0, type ScheduleEnv } from '../helpers/schedules.ts';

// Schedules across restarts and downtime, on a real engine and LevelDB with virtual time: the
// server is "down" while the clock moves on, then a new engine and service open the same data.

let env: ScheduleEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

async function start(): Promise<ScheduleEnv> {
  env = await startScheduleEnv({ workflows: [timerWorkflow, approvalWorkflow], startAt: T0 });
  return env;
}

describe('schedules across restarts and downtime', () => {
  it('keeps schedules across a restart and goes on where they were', async () => {
    const e = await start();
    await e.schedules.create(everyMinute('steady', 1000));
    await e.schedules.create({ ...everyMinute('held', 1000), paused: true, note: 'not yet' });
    await e.clock.advance('2m');
    await e.down();
    await e.up();
    await e.clock.advance('2m');
    const { state } = await e.schedules.describe({ scheduleId: 'steady' });
    expect(state.recentActions.map((a) => a.nominalTime)).toEqual([1, 2, 3, 4].map((n) => T0 + n * MIN));
    expect(state.counts).toEqual({ taken: 4, skipped: 0, missed: 0, failed: 0 });
    expect((await e.engine.count({ workflowIdPrefix: 'steady-' })).count).toBe(4);
    expect((await e.schedules.describe({ scheduleId: 'held' })).state).toMatchObject({ paused: true, note: 'not yet', counts: { taken: 0 } });
  });

  it('after downtime, takes the actions within the catch-up window and counts older ones as missed', async () => {
    const e = await start();
    await e.schedules.create(everyMinute('catchup', 1000, { policies: { overlap: 'allowAll', catchupWindow: '10m' } }));
    await e.clock.advance('1m');
    await e.down();
    await e.clock.advance('30m'); // now T0 + 31m: the times 2m … 31m were missed while down
    await e.up();
    const { state } = await e.schedules.describe({ scheduleId: 'catchup' });
    // 2m … 20m are more than 10 minutes old: missed. 21m … 31m are taken now.
    expect(state.counts).toEqual({ taken: 12, skipped: 0, missed: 19, failed: 0 });
    expect(state.recentActions.map((a) => a.nominalTime)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (22 + i) * MIN));
    expect(state.recentActions.every((a) => a.actualTime === T0 + 31 * MIN)).toBe(true);
    expect(state.nextActionAt).toBe(T0 + 32 * MIN);
    expect((await e.engine.count({ workflowIdPrefix: 'catchup-' })).count).toBe(12);
  });

  it('after downtime under overlap "skip", takes the first missed action and skips the rest while it runs', async () => {
    const e = await start();
    await e.schedules.create(everyMinute('once', 30_000));
    await e.clock.advance('105s'); // the 1m run slept 30 s and closed
    await e.down();
    await e.clock.advance('30m');
    await e.up();
    const { state } = await e.schedules.describe({ scheduleId: 'once' });
    expect(state.recentActions.map((a) => [a.nominalTime, a.actualTime])).toEqual([[T0 + MIN, T0 + MIN], [T0 + 2 * MIN, T0 + 31.75 * MIN]]);
    expect(state.counts).toEqual({ taken: 2, skipped: 29, missed: 0, failed: 0 });
  });

  it('records, and does not start again, an action whose workflow started just before a crash', async () => {
    let failPuts = false;
    const failing = (store: Store): Store => new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'putSchedule' && failPuts) return () => Promise.reject(new StoreFailedError('simulated crash before the schedule write'));
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    env = await startScheduleEnv({ workflows: [timerWorkflow], startAt: T0, wrapStore: failing });
    const e = env;
    await e.schedules.create(everyMinute('crashy', 600_000));
    failPuts = true;
    await e.clock.advance('1m'); // the workflow starts; writing the outcome fails
    const started = await e.engine.describe({ workflowId: `crashy-${iso(T0 + MIN)}` });
    await e.down();
    failPuts = false;
    await e.up();
    const { state } = await e.schedules.describe({ scheduleId: 'crashy' });
    expect(state.counts).toEqual({ taken: 1, skipped: 0, missed: 0, failed: 0 });
    expect(state.recentActions).toEqual([{ nominalTime: T0 + MIN, actualTime: T0 + MIN, workflowId: `crashy-${iso(T0 + MIN)}`, runId: started.runId }]);
    expect((await e.engine.list({ workflowIdPrefix: 'crashy-' })).runs.map((r) => r.runId)).toEqual([started.runId]);
  });

  it('counts an action as failed when its workflow type is no longer registered, and moves on', async () => {
    const e = await start();
    await e.schedules.create({ scheduleId: 'orphan', spec: { interval: { every: '1m' } }, action: { workflowType: 'approval', input: { request: 'x', timeoutMs: 1000 } } });
    await e.down();
    await e.up({ workflows: [timerWorkflow] });
    await e.clock.advance('2m');
    const { state } = await e.schedules.describe({ scheduleId: 'orphan' });
    expect(state.counts).toEqual({ taken: 0, skipped: 0, missed: 0, failed: 2 });
    expect(state.lastFailure).toMatchObject({ nominalTime: T0 + 2 * MIN, code: 'WORKFLOW_TYPE_NOT_FOUND' });
    expect(state.nextActionAt).toBe(T0 + 3 * MIN);
  });
});
