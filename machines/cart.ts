import { assign, setup } from 'xstate';
import { workflow } from '../src/index.ts';

/**
 * Updates with validation: a shopping cart takes ADD_ITEM as an update (the caller waits for
 * the new state), validated before anything is recorded: the quantity must be 1–10 and the cart
 * may hold at most `maxItems` lines. CHECKOUT is accepted only while the cart has items (a guard,
 * which XState's `can` evaluates). A rejected update leaves no trace and returns the reason.
 */
export interface CartLine {
  sku: string;
  quantity: number;
}

interface CartContext {
  lines: CartLine[];
  maxItems: number;
}

type CartEvent = { type: 'ADD_ITEM'; sku: string; quantity: number } | { type: 'CHECKOUT' };

export const cartMachine = setup({
  types: {} as { input: { maxItems?: number }; context: CartContext; events: CartEvent; output: { lines: CartLine[] } },
  guards: {
    hasItems: ({ context }) => context.lines.length > 0,
    roomForLine: ({ context }) => context.lines.length < context.maxItems,
  },
  // Named, not written in place, so that the Stately export keeps it: an exported cart run in
  // plain XState with this action provided fills its lines, and CHECKOUT's guard sees them.
  actions: {
    addLine: assign({ lines: ({ context, event }) => (event.type === 'ADD_ITEM' ? [...context.lines, { sku: event.sku, quantity: event.quantity }] : context.lines) }),
  },
}).createMachine({
  id: 'cart',
  context: ({ input }) => ({ lines: [], maxItems: input?.maxItems ?? 3 }),
  initial: 'shopping',
  states: {
    shopping: {
      on: {
        ADD_ITEM: { actions: 'addLine' },
        CHECKOUT: { guard: 'hasItems', target: 'checkedOut' },
      },
    },
    checkedOut: { type: 'final' },
  },
  output: ({ context }) => ({ lines: context.lines }),
});

export const cartWorkflow = workflow(cartMachine, {
  updateValidators: {
    ADD_ITEM: ({ context, event }) => {
      if (event.type !== 'ADD_ITEM') return true;
      if (!Number.isInteger(event.quantity) || event.quantity < 1 || event.quantity > 10) return `quantity must be 1–10, got ${event.quantity}`;
      return context.lines.length < context.maxItems || `the cart is full (${context.maxItems} lines)`;
    },
  },
});
