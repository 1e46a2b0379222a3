import { afterEach, describe, expect, it } from 'vitest';
import { timerWorkflow } from '../../machines/timer.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';
import { eventually } from '../helpers/engine.ts';
import { SteppedClock } from '../helpers/stepped-clock.ts';

// Durable timers are due at wall-clock instants, and the wall clock can be stepped while the
// server runs (issue 15, bug 8). The engine runs on a clock whose wall time is stepped apart
// from elapsed time, as Date.now() is from Node's timers; LevelDB is real, in a temp directory.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function engineOn(clock: SteppedClock): Promise<TestEngine> {
  t = await createTestEngine({ workflows: [timerWorkflow], clock });
  return t;
}

const status = async (workflowId: string) => (await t!.engine.describe({ workflowId })).status;

/** Resolves once the run has `expected` status, as seen through the engine (polling real time). */
const reaches = (workflowId: string, expected: string) => eventually(async () => ((await status(workflowId)) === expected ? true : undefined));

describe('a wall-clock step', () => {
  it('back an hour: a timer started afterwards still fires when it is due', async () => {
    const clock = new SteppedClock();
    const { engine } = await engineOn(clock);
    // A timer armed before the step, due in ten minutes of the old time.
    const early = await engine.start('timer', { workflowId: 'armed-before', input: { ms: 10 * MINUTE } });
    clock.step(-HOUR);
    const late = await engine.start('timer', { workflowId: 'started-after', input: { ms: 3_000 } });
    await clock.elapse(MINUTE + 1_000);
    await reaches(late.workflowId, 'completed');
    // The earlier one is due at its wall-clock instant, which is now over an hour away.
    expect(await status(early.workflowId)).toBe('running');
  });

  it('back an hour while a timer is armed: new timers are not held up behind it', async () => {
    const clock = new SteppedClock();
    const { engine } = await engineOn(clock);
    await engine.start('timer', { workflowId: 'armed', input: { ms: 5_000 } });
    clock.step(-HOUR);
    // The armed wake-up passes: nothing is due at the new time, and the service arms again.
    await clock.elapse(6_000);
    const late = await engine.start('timer', { workflowId: 'new', input: { ms: 3_000 } });
    await clock.elapse(MINUTE + 1_000);
    await reaches(late.workflowId, 'completed');
  });

  it('forward an hour: a 30-minute timer now past due fires within one bounded wait (a minute), not after 30 minutes', async () => {
    const clock = new SteppedClock();
    const { engine } = await engineOn(clock);
    const { workflowId } = await engine.start('timer', { workflowId: 'overdue', input: { ms: 30 * MINUTE } });
    clock.step(HOUR);
    await clock.elapse(MINUTE + 1_000);
    await reaches(workflowId, 'completed');
    const fired = (await engine.history({ workflowId })).find((e) => e.kind === 'TimerFired');
    expect(fired).toBeDefined();
  });
});
