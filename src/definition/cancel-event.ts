/**
 * The event type a machine may handle to take part in its own cancellation: a cancel request
 * delivers `{ type: CANCEL_EVENT, reason }`; a machine that does not handle it ends canceled.
 *
 * @example
 * on: { [CANCEL_EVENT]: 'compensating' }
 */
export const CANCEL_EVENT = 'perdure.cancel';
