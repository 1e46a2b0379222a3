import { setup } from 'xstate';
import { workflow } from '../src/index.ts';

/**
 * A durable sleep: waits `ms` on a server timer, then completes. The bench starts hundreds at
 * once to measure timers; it also shows the smallest machine a timer needs (a delayed
 * transition, named so that its timer id survives replay).
 */
export const timerMachine = setup({
  types: {} as { input: { ms: number }; context: { ms: number }; output: { sleptMs: number } },
  delays: { sleep: ({ context }) => context.ms },
}).createMachine({
  id: 'timer',
  context: ({ input }) => ({ ms: input?.ms ?? 1000 }),
  initial: 'sleeping',
  states: {
    sleeping: { after: { sleep: 'done' } },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ sleptMs: context.ms }),
});

export const timerWorkflow = workflow(timerMachine);
