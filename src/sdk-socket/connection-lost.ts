import { PerdureError } from '../common/errors.ts';

/**
 * The connection to the server dropped (or could not be made) while a request waited. The SDKs
 * reconnect by themselves, so the error is `retryable`. When `sent` is true the request had
 * reached the wire and its outcome is unknown: reads are safe to repeat; repeat a start with the
 * same `idempotencyKey` to get the same run back. `cause`, when present, says why the socket
 * ended (a FRAME_TOO_LARGE or PROTOCOL_ERROR from a broken server, the server's own error frame…).
 *
 * @example
 * try { await handle.signal({ type: 'APPROVE', approver: 'ann' }) }
 * catch (e) { if (e instanceof ConnectionLostError) … retry once the client is back … }
 */
export class ConnectionLostError extends PerdureError {
  readonly retryable = true;
  constructor(message: string, readonly sent: boolean, options?: { cause?: unknown }) {
    super('CONNECTION_LOST', message, options);
  }
}
