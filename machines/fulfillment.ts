import { assign, setup } from 'xstate';
import { childWorkflow, workflow } from '../src/index.ts';
import type { FailureInfo } from '../src/index.ts';
import { toFailureInfo } from '../src/index.ts';

/**
 * Child workflows: a fulfillment hands the shipment of an order to a `shipment` workflow, a
 * separate execution that a carrier integration signals (PICKED_UP, DELIVERED) on its own
 * workflow id. The parent waits for the child's output. If the customer switches to collecting
 * in store (STORE_PICKUP), leaving the invoking state cancels the child; if the parent is
 * terminated, the child is terminated too (the default parent close policy).
 */
export interface ShipmentInput {
  orderId: string;
}

export interface ShipmentOutput {
  orderId: string;
  carrier: string;
}

export const shipmentMachine = setup({
  types: {} as {
    input: ShipmentInput;
    context: ShipmentInput & { carrier: string | null };
    events: { type: 'PICKED_UP'; carrier: string } | { type: 'DELIVERED' };
    output: ShipmentOutput;
  },
}).createMachine({
  id: 'shipment',
  context: ({ input }) => ({ orderId: input?.orderId ?? 'unknown', carrier: null }),
  initial: 'awaitingPickup',
  states: {
    awaitingPickup: { on: { PICKED_UP: { target: 'inTransit', actions: assign({ carrier: ({ event }) => event.carrier }) } } },
    inTransit: { on: { DELIVERED: 'delivered' } },
    delivered: { type: 'final' },
  },
  output: ({ context }) => ({ orderId: context.orderId, carrier: context.carrier ?? 'unknown' }),
});

export const shipment = childWorkflow<ShipmentInput, ShipmentOutput>('shipment', {
  workflowId: (input) => `shipment-${input.orderId}`,
});

export interface FulfillmentContext {
  orderId: string;
  carrier: string | null;
  failure: FailureInfo | null;
}

export const fulfillmentMachine = setup({
  types: {} as {
    input: { orderId: string };
    context: FulfillmentContext;
    events: { type: 'STORE_PICKUP' } | { type: 'COLLECTED' };
    output: FulfillmentContext;
  },
  actors: { shipment },
}).createMachine({
  id: 'fulfillment',
  context: ({ input }) => ({ orderId: input?.orderId ?? 'unknown', carrier: null, failure: null }),
  initial: 'shipping',
  states: {
    shipping: {
      invoke: {
        id: 'shipment', src: 'shipment',
        input: ({ context }) => ({ orderId: context.orderId }),
        onDone: { target: 'delivered', actions: assign({ carrier: ({ event }) => event.output.carrier }) },
        onError: { target: 'shipmentFailed', actions: assign({ failure: ({ event }) => toFailureInfo(event.error) }) },
      },
      on: { STORE_PICKUP: 'storePickup' },
    },
    storePickup: { on: { COLLECTED: { target: 'delivered', actions: assign({ carrier: 'store' }) } } },
    delivered: { type: 'final' },
    shipmentFailed: { type: 'final' },
  },
  output: ({ context }) => context,
});

export const shipmentWorkflow = workflow(shipmentMachine);
export const fulfillmentWorkflow = workflow(fulfillmentMachine);
