/**
 * The worker SDK: runs activity functions for a Perdure server.
 *
 * @example
 * import { Worker, ApplicationFailure } from 'perdure/worker';
 *
 * const worker = Worker.create({
 *   address: 'localhost:7233',            // or 'ws://localhost:7233/ws', 'http://localhost:7233'
 *   token: process.env.PERDURE_AUTH_TOKEN, // when the server requires tokens
 *   taskQueue: 'orders',
 *   maxConcurrentActivities: 20,
 *   activities: {
 *     async chargeCard({ orderId, amount }, ctx) {
 *       ctx.heartbeat({ step: 'charging' });
 *       const res = await fetch(`https://pay.example/charge/${orderId}`, { method: 'POST', signal: ctx.signal });
 *       if (res.status === 402) throw ApplicationFailure.create({ message: 'declined', type: 'Declined', nonRetryable: true });
 *       return { chargeId: (await res.json()).id };
 *     },
 *   },
 * });
 * process.on('SIGTERM', () => void worker.shutdown());
 * await worker.run();
 */
export { Worker, type WorkerOptions } from './worker.ts';
export { consoleWorkerLogger, silentWorkerLogger, type WorkerLogger } from './worker-logger.ts';
export { WsWorkerConnection, type WsConnectionOptions, type ConnectionEvent } from './ws-connection.ts';
export { ClusterWorkerConnection } from './cluster-connection.ts';
/** The WebSocket URL of a server address (`localhost:7233` → `ws://localhost:7233/ws`); `webSocketUrl` under its worker SDK name. */
export { webSocketUrl as toWebSocketUrl } from '../common/address.ts';
export type { ActivityContext, ActivityFunction, ActivityInfo } from './activity-context.ts';
export type { WorkerConnection, WorkerRegistration, WorkerHandlers, WorkerSession, ActivityTask } from '../common/worker-protocol.ts';
export {
  Failure, ApplicationFailure, TimeoutFailure, ActivityFailure, CancelledFailure, TerminatedFailure, ChildWorkflowFailure,
  type FailureInfo,
} from '../common/failures.ts';
export {
  PerdureError, TaskTokenStaleError, UnauthorizedError, ForbiddenError, ProtocolError, InvalidArgumentError,
} from '../common/errors.ts';
export {
  aesGcmCodec, AES_GCM_CODEC_NAME, type AesGcmCodecOptions,
} from '../common/aes-gcm-codec.ts';
export {
  PayloadCodecError, ENCODED_MARKER, isEncodedPayload, encodePayload, decodePayload, decodePayloads,
  type PayloadCodec, type PayloadCodecOptions, type FieldSelection, type PayloadSite, type EncodedPayload, type Encoded, type Decoded,
} from '../common/payload-codec.ts';
