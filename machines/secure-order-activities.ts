import { createHash } from 'node:crypto';
import { ApplicationFailure, isEncodedPayload, type Decoded } from '../src/index.ts';
import type { ActivityFunction } from '../src/worker/index.ts';
import type { ChargeSecureCardInput, ChargeSecureCardOutput } from './secure-order.ts';

/**
 * The worker side of the secure order (machines/secure-order.ts). It stands in for a payment
 * provider; it gets the card decrypted (the worker's payload codec did it) and returns a receipt
 * that the worker encrypts. Run it with `payloadCodec: { codec, encodeFields: ['receipt'] }`.
 */
export function secureOrderActivityImplementations(): Record<string, ActivityFunction> {
  const chargeSecureCard: ActivityFunction<Decoded<ChargeSecureCardInput>, Decoded<ChargeSecureCardOutput>> = async ({ orderId, amount, card }, ctx) => {
    if (isEncodedPayload(card)) {
      throw ApplicationFailure.create({ message: 'the card arrived encrypted: give this worker the payload codec', type: 'CardEncrypted', nonRetryable: true });
    }
    // Idempotent per attempt, as a real provider's idempotency key would make it.
    const authCode = createHash('sha256').update(`${ctx.info.taskToken}:${card.number}:${amount}`).digest('hex').slice(0, 24);
    return { chargeId: `ch_${orderId}`, receipt: { cardLast4: card.number.slice(-4), holder: card.holder, authCode } };
  };
  return { chargeSecureCard };
}
