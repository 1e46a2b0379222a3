import { assign, setup } from 'xstate';
import { workflow } from '../src/index.ts';

/**
 * An approval that waits for a person: APPROVE or REJECT (signals), or it expires when its
 * durable timer fires, even if the server restarted in between. A reminder goes out halfway.
 */
export interface ApprovalInput {
  request: string;
  /** How long to wait for a decision. */
  timeoutMs: number;
}

export type ApprovalEvent =
  | { type: 'APPROVE'; approver: string }
  | { type: 'REJECT'; approver: string; reason?: string };

export interface ApprovalOutput {
  request: string;
  decision: 'approved' | 'rejected' | 'expired';
  approver: string | null;
  /** Server time of the deciding event: machines read time from events, never from a clock. */
  decidedAt: number;
  reminders: number;
}

interface ApprovalContext {
  request: string;
  timeoutMs: number;
  decision: ApprovalOutput['decision'] | null;
  approver: string | null;
  decidedAt: number;
  reminders: number;
}

type Recorded = { recordedAt?: number };

export const approvalMachine = setup({
  types: {} as { input: ApprovalInput; context: ApprovalContext; events: ApprovalEvent | { type: 'REMIND' }; output: ApprovalOutput },
  delays: {
    approvalTimeout: ({ context }) => context.timeoutMs,
    reminderDelay: ({ context }) => Math.floor(context.timeoutMs / 2),
  },
}).createMachine({
  id: 'approval',
  context: ({ input }) => ({
    request: input?.request ?? '', timeoutMs: input?.timeoutMs ?? 86_400_000,
    decision: null, approver: null, decidedAt: 0, reminders: 0,
  }),
  initial: 'waiting',
  states: {
    waiting: {
      after: {
        reminderDelay: { actions: assign({ reminders: ({ context }) => context.reminders + 1 }) },
        approvalTimeout: {
          target: 'expired',
          actions: assign({ decidedAt: ({ event }) => (event as Recorded).recordedAt ?? 0 }),
        },
      },
      on: {
        APPROVE: {
          target: 'approved',
          actions: assign({ approver: ({ event }) => event.approver, decidedAt: ({ event }) => (event as Recorded).recordedAt ?? 0 }),
        },
        REJECT: {
          target: 'rejected',
          actions: assign({ approver: ({ event }) => event.approver, decidedAt: ({ event }) => (event as Recorded).recordedAt ?? 0 }),
        },
      },
    },
    approved: { type: 'final', entry: assign({ decision: 'approved' }) },
    rejected: { type: 'final', entry: assign({ decision: 'rejected' }) },
    expired: { type: 'final', entry: assign({ decision: 'expired' }) },
  },
  output: ({ context }) => ({
    request: context.request, decision: context.decision!, approver: context.approver, decidedAt: context.decidedAt, reminders: context.reminders,
  }),
});

export const approvalWorkflow = workflow(approvalMachine);
