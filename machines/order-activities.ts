import { ApplicationFailure } from '../src/index.ts';
import type { ActivityFunction } from '../src/worker/index.ts';

/**
 * Worker-side implementations of the order saga's activities. They stand in for a payment
 * provider, a warehouse and a carrier; `fail` inputs make a step fail for good (non-retryable).
 * Ids derive from the order id and attempt token, so a re-run after a crash is idempotent.
 */
export function orderActivityImplementations(options: { delayMs?: () => number } = {}): Record<string, ActivityFunction> {
  const pause = async (signal: AbortSignal) => {
    const ms = options.delayMs?.() ?? 0;
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    signal.throwIfAborted();
  };
  const refuse = (what: string) => ApplicationFailure.create({ message: `${what} refused`, type: 'Refused', nonRetryable: true });
  return {
    chargeCard: async ({ orderId, fail }: { orderId: string; fail: boolean }, ctx) => {
      await pause(ctx.signal);
      if (fail) throw refuse('card');
      return { chargeId: `ch_${orderId}` };
    },
    reserveInventory: async ({ orderId, fail }: { orderId: string; fail: boolean }, ctx) => {
      await pause(ctx.signal);
      if (fail) throw refuse('reservation');
      return { reservationId: `res_${orderId}` };
    },
    shipOrder: async ({ orderId, fail }: { orderId: string; fail: boolean }, ctx) => {
      await pause(ctx.signal);
      if (fail) throw refuse('shipment');
      return { trackingId: `trk_${orderId}` };
    },
    releaseInventory: async (_input: unknown, ctx) => pause(ctx.signal),
    refundCard: async (_input: unknown, ctx) => pause(ctx.signal),
  };
}
