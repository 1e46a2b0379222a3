import { assign, setup } from 'xstate';
import { activity, workflow } from '../src/index.ts';

/**
 * An order saga: charge the card, reserve stock, ship. When a step fails after its retries,
 * the steps already done are compensated in reverse (release the stock, refund the card).
 */
export interface OrderInput {
  orderId: string;
  amount: number;
  items: string[];
  /** For demos and tests: the step whose activity fails for good. */
  failAt?: 'charge' | 'reserve' | 'ship';
}

export interface OrderOutput {
  orderId: string;
  outcome: 'shipped' | 'compensated' | 'declined';
  chargeId: string | null;
  trackingId: string | null;
}

const options = { taskQueue: 'orders', startToCloseTimeout: '10s', retry: { initialInterval: '100ms', maximumAttempts: 3 } } as const;

export const orderActivities = {
  chargeCard: activity<{ orderId: string; amount: number; fail: boolean }, { chargeId: string }>('chargeCard', options),
  reserveInventory: activity<{ orderId: string; items: string[]; fail: boolean }, { reservationId: string }>('reserveInventory', options),
  shipOrder: activity<{ orderId: string; fail: boolean }, { trackingId: string }>('shipOrder', options),
  releaseInventory: activity<{ reservationId: string }, void>('releaseInventory', options),
  refundCard: activity<{ chargeId: string; amount: number }, void>('refundCard', options),
};

interface OrderContext extends Omit<OrderOutput, 'outcome'> {
  amount: number;
  items: string[];
  failAt: OrderInput['failAt'] | null;
  reservationId: string | null;
  outcome: OrderOutput['outcome'] | null;
}

export const orderMachine = setup({
  types: {} as { input: OrderInput; context: OrderContext; output: OrderOutput },
  actors: orderActivities,
}).createMachine({
  id: 'order',
  // The context factory may be called with no input (XState's pure transition does): tolerate it.
  context: ({ input }) => ({
    orderId: input?.orderId ?? 'unknown', amount: input?.amount ?? 0, items: input?.items ?? [], failAt: input?.failAt ?? null,
    chargeId: null, reservationId: null, trackingId: null, outcome: null,
  }),
  initial: 'charging',
  states: {
    charging: {
      invoke: {
        id: 'charge', src: 'chargeCard',
        input: ({ context }) => ({ orderId: context.orderId, amount: context.amount, fail: context.failAt === 'charge' }),
        onDone: { target: 'reserving', actions: assign({ chargeId: ({ event }) => event.output.chargeId }) },
        onError: { target: 'declined' },
      },
    },
    reserving: {
      invoke: {
        id: 'reserve', src: 'reserveInventory',
        input: ({ context }) => ({ orderId: context.orderId, items: context.items, fail: context.failAt === 'reserve' }),
        onDone: { target: 'shipping', actions: assign({ reservationId: ({ event }) => event.output.reservationId }) },
        onError: { target: 'refunding' },
      },
    },
    shipping: {
      invoke: {
        id: 'ship', src: 'shipOrder',
        input: ({ context }) => ({ orderId: context.orderId, fail: context.failAt === 'ship' }),
        onDone: { target: 'shipped', actions: assign({ trackingId: ({ event }) => event.output.trackingId }) },
        onError: { target: 'releasing' },
      },
    },
    releasing: {
      invoke: { id: 'release', src: 'releaseInventory', input: ({ context }) => ({ reservationId: context.reservationId! }), onDone: 'refunding' },
    },
    refunding: {
      invoke: { id: 'refund', src: 'refundCard', input: ({ context }) => ({ chargeId: context.chargeId!, amount: context.amount }), onDone: 'compensated' },
    },
    shipped: { type: 'final', entry: assign({ outcome: 'shipped' }) },
    compensated: { type: 'final', entry: assign({ outcome: 'compensated' }) },
    declined: { type: 'final', entry: assign({ outcome: 'declined' }) },
  },
  output: ({ context }) => ({ orderId: context.orderId, outcome: context.outcome!, chargeId: context.chargeId, trackingId: context.trackingId }),
});

export const orderWorkflow = workflow(orderMachine);
