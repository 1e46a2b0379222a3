/**
 * The worker SDK: runs activity functions for the server.
 *
 * @example
 * import { Worker } from 'perdure/worker';
 * const worker = Worker.create({ connection: engine, taskQueue: 'payments', activities: { chargeCard } });
 * await worker.run();
 */
export { Worker, type WorkerOptions } from './worker.ts';
export type { ActivityContext, ActivityFunction, ActivityInfo } from './activity-context.ts';
export type { WorkerConnection, WorkerRegistration, WorkerHandlers, WorkerSession, ActivityTask } from '../common/worker-protocol.ts';
export {
  Failure, ApplicationFailure, TimeoutFailure, ActivityFailure, CancelledFailure, TerminatedFailure, ChildWorkflowFailure,
  type FailureInfo,
} from '../common/failures.ts';
export { PerdureError, TaskTokenStaleError } from '../common/errors.ts';
