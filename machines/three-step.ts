import { setup } from 'xstate';
import { activity, workflow } from '../src/index.ts';

/** The benchmark workload: three activities in sequence, each echoing its input. */
const step = (name: string) => activity<{ n: number }, { n: number }>(name, { taskQueue: 'bench', startToCloseTimeout: '30s' });

export const threeStepMachine = setup({
  types: {} as { input: { n: number }; context: { n: number }; output: { n: number } },
  actors: { step1: step('step1'), step2: step('step2'), step3: step('step3') },
}).createMachine({
  id: 'threeStep',
  context: ({ input }) => ({ n: input?.n ?? 0 }),
  initial: 'one',
  states: {
    one: { invoke: { id: 's1', src: 'step1', input: ({ context }) => context, onDone: 'two' } },
    two: { invoke: { id: 's2', src: 'step2', input: ({ context }) => context, onDone: 'three' } },
    three: { invoke: { id: 's3', src: 'step3', input: ({ context }) => context, onDone: 'done' } },
    done: { type: 'final' },
  },
  output: ({ context }) => context,
});

export const threeStepWorkflow = workflow(threeStepMachine);

export const threeStepActivities = {
  step1: async (input: { n: number }) => input,
  step2: async (input: { n: number }) => input,
  step3: async (input: { n: number }) => input,
};
