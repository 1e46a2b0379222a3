import { assign, setup, type AnyStateMachine, type AnyStateNodeConfig } from 'xstate';
import { workflow } from '../src/index.ts';
import { approvalMachine, approvalWorkflow, type ApprovalEvent, type ApprovalInput, type ApprovalOutput } from './approval.ts';

/**
 * Versioning with a migration: version 2 of the approval is version 1 plus ESCALATE, which a
 * waiting request may receive any number of times, counted in a new context field
 * `escalations`. Registered beside version 1, it takes new executions; running ones stay on
 * version 1 until `perdure workflow migrate --type approval --from <v1>` moves them, with the
 * migration below giving them the new field. Their pending timers carry over by id, which is
 * why the waiting state keeps its name.
 */
const v1 = approvalMachine.config;
const waiting = v1.states!.waiting as AnyStateNodeConfig;

// Typed loosely: it is built from version 1's config, whose types setup() cannot see through.
export const approvalMachineV2 = setup({
  types: {} as {
    input: ApprovalInput;
    context: { escalations: number };
    events: ApprovalEvent | { type: 'REMIND' } | { type: 'ESCALATE' };
    output: ApprovalOutput;
  },
  delays: approvalMachine.implementations.delays as never,
}).createMachine({
  ...(v1 as object),
  id: 'approval',
  context: (args: { input: ApprovalInput }) => ({ ...(v1.context as (a: typeof args) => object)(args), escalations: 0 }),
  states: {
    ...(v1.states as object),
    waiting: { ...waiting, on: { ...(waiting.on as object), ESCALATE: { actions: assign({ escalations: ({ context }) => context.escalations + 1 }) } } },
  },
} as never) as unknown as AnyStateMachine;

export const approvalV2Workflow = workflow(approvalMachineV2, {
  migrations: {
    // Runs of version 1 keep their state and gain the new field.
    [approvalWorkflow.version]: ({ value, context }) => ({ value, context: { ...context, escalations: 0 } }),
  },
});
