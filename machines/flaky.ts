import { assign, setup } from 'xstate';
import { activity, ApplicationFailure, workflow } from '../src/index.ts';

/**
 * Calls an unreliable service until it answers. The server retries the activity with
 * exponential backoff (50 ms, 100 ms, 200 ms, …) up to five attempts; a 'Fatal' failure is not
 * retried. Either way the machine decides what to do with the outcome.
 */
export const flakyCall = activity<{ key: string; failTimes: number; fatal?: boolean }, { answer: string; attempts: number }>('flakyCall', {
  taskQueue: 'flaky',
  startToCloseTimeout: '5s',
  retry: { initialInterval: '50ms', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: ['Fatal'] },
});

export interface FlakyOutput {
  answer: string | null;
  attempts: number | null;
  error: { message: string; retryState?: string; cause?: { type?: string; message: string } } | null;
}

export const flakyMachine = setup({
  types: {} as { input: { key: string; failTimes: number; fatal?: boolean }; context: FlakyOutput & { input: { key: string; failTimes: number; fatal?: boolean } }; output: FlakyOutput },
  actors: { flakyCall },
}).createMachine({
  id: 'flaky',
  context: ({ input }) => ({ input: input ?? { key: 'none', failTimes: 0 }, answer: null, attempts: null, error: null }),
  initial: 'calling',
  states: {
    calling: {
      invoke: {
        id: 'call', src: 'flakyCall', input: ({ context }) => context.input,
        onDone: { target: 'answered', actions: assign({ answer: ({ event }) => event.output.answer, attempts: ({ event }) => event.output.attempts }) },
        onError: { target: 'gaveUp', actions: assign({ error: ({ event }) => JSON.parse(JSON.stringify(event.error)) }) },
      },
    },
    answered: { type: 'final' },
    gaveUp: { type: 'final' },
  },
  output: ({ context }) => ({ answer: context.answer, attempts: context.attempts, error: context.error }),
});

export const flakyWorkflow = workflow(flakyMachine);

/** The worker side: fails `failTimes` attempts, then answers (or throws a non-retryable Fatal). */
export const flakyActivities = {
  flakyCall: async (input: { key: string; failTimes: number; fatal?: boolean }, ctx: { info: { attempt: number } }) => {
    if (input.fatal) {
      throw ApplicationFailure.create({ message: 'the service said no for good', type: 'Fatal' });
    }
    if (ctx.info.attempt <= input.failTimes) throw new Error(`service unavailable (attempt ${ctx.info.attempt})`);
    return { answer: `answer-for-${input.key}`, attempts: ctx.info.attempt };
  },
};
