/**
 * The client SDK. Until the server's network API lands, an in-process `Engine` (from
 * `perdure/server`) offers the client operations directly: start, signal, update, query,
 * cancel, terminate, result, describe, history, list.
 */
export {
  Failure, ApplicationFailure, TimeoutFailure, ActivityFailure, CancelledFailure, TerminatedFailure, ChildWorkflowFailure,
  fromFailureInfo, type FailureInfo,
} from '../common/failures.ts';
export {
  PerdureError, ExecutionNotFoundError, ExecutionAlreadyStartedError, ExecutionClosedError, UpdateRejectedError, TimeoutError,
} from '../common/errors.ts';
export type { ExecutionStatus, HistoryEvent, MachineEvent } from '../common/history.ts';
