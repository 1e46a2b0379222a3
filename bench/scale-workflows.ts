/**
 * The workflows of the scale bench (`perdure server --workflows bench/scale-workflows.ts`).
 * Kept out of machines/index.ts: every example there needs a recorded history for the replay
 * tests, and this one exists only to be started by the hundred thousand.
 */
import { setup } from 'xstate';
import { workflow } from '../src/index.ts';

export { counterWorkflow } from '../machines/counter.ts';
export { timerWorkflow } from '../machines/timer.ts';

/** An hour: the execution is open and holds a durable timer for the whole bench. */
export const WAIT_TIMEOUT_MS = 3_600_000;

/**
 * The smallest execution that waits for a person: GO (a signal) completes it, or it expires
 * after an hour on a durable timer. Nothing else: what a waiting execution costs is then the
 * engine's own overhead (run record, history, timer entry, visibility record).
 */
export const waitMachine = setup({
  types: {} as { events: { type: 'GO' } },
  // A named delay, so that the timer id is the same on replay.
  delays: { timeout: WAIT_TIMEOUT_MS },
}).createMachine({
  id: 'scaleWait',
  initial: 'waiting',
  states: {
    waiting: { on: { GO: 'go' }, after: { timeout: 'expired' } },
    go: { type: 'final' },
    expired: { type: 'final' },
  },
});

export const waitWorkflow = workflow(waitMachine);
