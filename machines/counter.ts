import { assign, setup } from 'xstate';
import { continueAsNew, workflow } from '../src/index.ts';

/**
 * Continue-as-new: a counter that lives forever as one workflow id. Every event carries
 * `historyLength`; once the run's history reaches `rollAt` events, the machine ends the run
 * with `continueAsNew({ total })`, and a fresh run of the same workflow id goes on from that
 * total with an empty history. FINISH ends the chain; `result()` answers with the last run's output.
 */
export interface CounterInput {
  total?: number;
  /** History length at which a run hands over to a new one. Default 200. */
  rollAt?: number;
}

interface CounterContext {
  total: number;
  rollAt: number;
  rolling: boolean;
}

type CounterEvent = { type: 'ADD'; amount: number; historyLength: number } | { type: 'FINISH' };

export const counterMachine = setup({
  types: {} as { input: CounterInput; context: CounterContext; events: CounterEvent; output: { total: number } | ReturnType<typeof continueAsNew<CounterInput>> },
  actions: {
    add: assign({ total: ({ context, event }) => context.total + (event.type === 'ADD' ? event.amount : 0) }),
  },
}).createMachine({
  id: 'counter',
  context: ({ input }) => ({ total: input?.total ?? 0, rollAt: input?.rollAt ?? 200, rolling: false }),
  initial: 'counting',
  states: {
    counting: {
      on: {
        ADD: [
          { guard: ({ context, event }) => event.historyLength + 1 >= context.rollAt, target: 'done', actions: ['add', assign({ rolling: true })] },
          { actions: 'add' },
        ],
        FINISH: 'done',
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => (context.rolling ? continueAsNew({ total: context.total, rollAt: context.rollAt }) : { total: context.total }),
});

export const counterWorkflow = workflow(counterMachine);
