import { setup } from 'xstate';

/** A machine with nesting, a parallel state, guards, `after`, invokes and a transition out of a child. */
export const nestedMachine = setup({
  types: {} as { events: { type: 'GO' } | { type: 'PAUSE' } | { type: 'RESUME' } | { type: 'FIX' } | { type: 'ABORT' } | { type: 'TICK' } },
  guards: { isReady: () => true },
  actions: { notify: () => {} },
  actors: {},
}).createMachine({
  id: 'nested',
  initial: 'idle',
  states: {
    idle: { on: { GO: { target: 'working', guard: 'isReady' } } },
    working: {
      type: 'parallel',
      on: { ABORT: '#nested.aborted' },
      states: {
        upload: {
          initial: 'sending',
          states: {
            sending: { on: { PAUSE: 'paused' }, after: { 5000: 'stalled' } },
            paused: { on: { RESUME: 'sending' } },
            stalled: { on: { FIX: { target: '#nested.done', actions: 'notify' } } },
          },
        },
        progress: {
          initial: 'counting',
          states: { counting: { on: { TICK: { actions: 'notify' } } } },
        },
      },
    },
    done: { type: 'final' },
    aborted: { type: 'final' },
  },
});

export function definitionOf(machine: { toJSON(): unknown }): never {
  return JSON.parse(JSON.stringify(machine)) as never;
}
