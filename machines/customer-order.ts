import { assign, setup } from 'xstate';
import { workflow } from '../src/index.ts';

/**
 * A customer's order being filled in: items are added (ADD_ITEM), it may be expedited
 * (EXPEDITE), then it is submitted (SUBMIT), or it lapses after 30 days open (a durable timer). It needs no
 * worker, and it publishes search attributes from its context, so its executions can be found
 * by customer, amount, expedition and due time:
 *
 * ```
 * perdure workflow list --attr customerId=c-42 --attr 'amount>=100'
 * GET /api/v1/namespaces/default/workflows?attr=expedited=true&attr=dueAt<2026-02-01T00:00:00Z
 * client.list({ searchAttributes: { customerId: 'c-42', amount: { gte: 100 } } })
 * ```
 */
export interface CustomerOrderInput {
  customerId: string;
  /** The delivery date the customer asked for (ISO 8601), if any. */
  dueAt?: string;
}

export type CustomerOrderEvent =
  | { type: 'ADD_ITEM'; sku: string; price: number }
  | { type: 'EXPEDITE' }
  | { type: 'SUBMIT' };

export interface CustomerOrderOutput {
  customerId: string;
  outcome: 'submitted' | 'lapsed';
  amount: number;
  items: number;
}

interface CustomerOrderContext {
  customerId: string;
  items: { sku: string; price: number }[];
  amount: number;
  expedited: boolean;
  /** The delivery date asked for, ms since epoch; null when none was. */
  dueAt: number | null;
  outcome: CustomerOrderOutput['outcome'] | null;
}

const THIRTY_DAYS = 30 * 86_400_000;

export const customerOrderMachine = setup({
  types: {} as { input: CustomerOrderInput; context: CustomerOrderContext; events: CustomerOrderEvent; output: CustomerOrderOutput },
}).createMachine({
  id: 'customerOrder',
  // The context factory may be called with no input (XState's pure transition does): tolerate it.
  context: ({ input }) => ({
    customerId: input?.customerId ?? 'unknown', items: [], amount: 0, expedited: false,
    dueAt: input?.dueAt === undefined ? null : Date.parse(input.dueAt), outcome: null,
  }),
  initial: 'open',
  states: {
    open: {
      after: { [THIRTY_DAYS]: { target: 'closed', actions: assign({ outcome: 'lapsed' }) } },
      on: {
        ADD_ITEM: {
          guard: ({ event }) => typeof event.price === 'number' && Number.isFinite(event.price) && event.price >= 0,
          actions: assign({
            items: ({ context, event }) => [...context.items, { sku: event.sku, price: event.price }],
            amount: ({ context, event }) => context.amount + event.price,
          }),
        },
        EXPEDITE: { actions: assign({ expedited: true }) },
        SUBMIT: { guard: ({ context }) => context.items.length > 0, target: 'closed', actions: assign({ outcome: 'submitted' }) },
      },
    },
    closed: { type: 'final' },
  },
  output: ({ context }) => ({ customerId: context.customerId, outcome: context.outcome ?? 'lapsed', amount: context.amount, items: context.items.length }),
});

/**
 * The workflow, with its search attributes: read from the context after every step, so
 * `amount` follows the items as they are added. `dueAt` is a datetime (ms since epoch); an
 * order without one leaves it unset (`from` returns null).
 */
export const customerOrderWorkflow = workflow(customerOrderMachine, {
  searchAttributes: {
    customerId: { type: 'keyword', from: (ctx) => ctx.customerId },
    amount: { type: 'number', from: (ctx) => ctx.amount },
    expedited: { type: 'boolean', from: (ctx) => ctx.expedited },
    dueAt: { type: 'datetime', from: (ctx) => ctx.dueAt },
  },
});
