import { assign, setup } from 'xstate';
import { activity, workflow, type Encoded } from '../src/index.ts';

/**
 * An order whose card details are encrypted end to end (docs/payloads.md): the client encrypts
 * `card`, the server stores and the machine passes on only the envelope, and the worker that
 * charges the card decrypts it; the worker encrypts the `receipt` it returns, and the client
 * decrypts it. The amount is left plain, because a guard reads it: orders above
 * `REVIEW_ABOVE` wait for a person to APPROVE them, and meanwhile the card may be replaced
 * (UPDATE_CARD, whose `card` is encrypted too).
 *
 * The machine never looks into `card` or `receipt`: it has only `Encoded<…>` envelopes, which it
 * keeps in context and hands to the activity and to its output.
 *
 * Client and worker options:
 *   client: payloadCodec: { codec, encodeFields: ['card'] }
 *   worker: payloadCodec: { codec, encodeFields: ['receipt'] }
 */
export interface Card {
  number: string;
  holder: string;
  expiry: string;
}

export interface Receipt {
  cardLast4: string;
  holder: string;
  authCode: string;
}

export interface SecureOrderInput {
  orderId: string;
  /** Plain: the review guard reads it. */
  amount: number;
  card: Encoded<Card>;
}

export type SecureOrderEvent =
  | { type: 'UPDATE_CARD'; card: Encoded<Card> }
  | { type: 'APPROVE'; approver: string }
  | { type: 'REJECT'; approver: string };

export interface SecureOrderOutput {
  orderId: string;
  outcome: 'paid' | 'rejected' | 'declined';
  chargeId: string | null;
  receipt: Encoded<Receipt> | null;
  /** Why the charge failed, when declined (the activity failure's message). */
  declineReason: string | null;
}

/** Amounts above this wait for APPROVE before the card is charged. */
export const REVIEW_ABOVE = 1000;

export interface ChargeSecureCardInput {
  orderId: string;
  amount: number;
  card: Encoded<Card>;
}

export interface ChargeSecureCardOutput {
  chargeId: string;
  receipt: Encoded<Receipt>;
}

export const secureOrderActivities = {
  chargeSecureCard: activity<ChargeSecureCardInput, ChargeSecureCardOutput>('chargeSecureCard', {
    taskQueue: 'secure-payments', startToCloseTimeout: '10s', retry: { initialInterval: '50ms', maximumAttempts: 3 },
  }),
};

interface SecureOrderContext extends SecureOrderInput {
  outcome: SecureOrderOutput['outcome'] | null;
  chargeId: string | null;
  receipt: Encoded<Receipt> | null;
  declineReason: string | null;
}

export const secureOrderMachine = setup({
  types: {} as { input: SecureOrderInput; context: SecureOrderContext; events: SecureOrderEvent; output: SecureOrderOutput },
  actors: secureOrderActivities,
  guards: {
    needsReview: ({ context }) => context.amount > REVIEW_ABOVE,
  },
}).createMachine({
  id: 'secureOrder',
  // The context factory may be called with no input (XState's pure transition does): tolerate it.
  context: ({ input }) => ({
    orderId: input?.orderId ?? 'unknown', amount: input?.amount ?? 0, card: input?.card as Encoded<Card>,
    outcome: null, chargeId: null, receipt: null, declineReason: null,
  }),
  initial: 'checking',
  states: {
    checking: {
      always: [{ guard: 'needsReview', target: 'review' }, { target: 'charging' }],
    },
    review: {
      on: {
        // The new card is an envelope too: the machine stores it without reading it.
        UPDATE_CARD: { actions: assign({ card: ({ event }) => event.card }) },
        APPROVE: 'charging',
        REJECT: 'rejected',
      },
    },
    charging: {
      invoke: {
        id: 'charge', src: 'chargeSecureCard',
        input: ({ context }) => ({ orderId: context.orderId, amount: context.amount, card: context.card }),
        onDone: { target: 'paid', actions: assign({ chargeId: ({ event }) => event.output.chargeId, receipt: ({ event }) => event.output.receipt }) },
        onError: { target: 'declined', actions: assign({ declineReason: ({ event }) => (event.error as Error).message }) },
      },
    },
    paid: { type: 'final', entry: assign({ outcome: 'paid' }) },
    rejected: { type: 'final', entry: assign({ outcome: 'rejected' }) },
    declined: { type: 'final', entry: assign({ outcome: 'declined' }) },
  },
  output: ({ context }) => ({
    orderId: context.orderId, outcome: context.outcome!, chargeId: context.chargeId, receipt: context.receipt, declineReason: context.declineReason,
  }),
});

export const secureOrderWorkflow = workflow(secureOrderMachine);
