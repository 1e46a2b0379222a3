/**
 * Perdure: durable workflows that are XState v5 machines.
 *
 * @example
 * import { setup } from 'xstate';
 * import { activity, workflow } from 'perdure';
 *
 * const chargeCard = activity<{ amount: number }, { chargeId: string }>('chargeCard', { taskQueue: 'payments' });
 * export const order = workflow(setup({ actors: { chargeCard } }).createMachine({
 *   id: 'order', initial: 'charging',
 *   states: {
 *     charging: { invoke: { id: 'charge', src: 'chargeCard', input: { amount: 42 }, onDone: 'done', onError: 'failed' } },
 *     done: { type: 'final' }, failed: { type: 'final' },
 *   },
 * }));
 */
export { activity, activityMarker, type ActivityLogic, type ActivityMarker } from './definition/activity.ts';
export {
  workflow, isWorkflowDefinition, machineVersion,
  type WorkflowDefinition, type WorkflowOptions, type WorkflowInput, type WorkflowOutput, type WorkflowEvent,
} from './definition/workflow.ts';
export {
  childWorkflow, childWorkflowMarker, type ChildWorkflowLogic, type ChildWorkflowMarker, type ChildWorkflowOptions,
} from './definition/child-workflow.ts';
export { PARENT_CLOSE_POLICIES, type ParentClosePolicy } from './common/parent-close-policy.ts';
export { continueAsNew, isContinueAsNew, type ContinueAsNew } from './definition/continue-as-new.ts';
export type { SearchAttributeDeclaration, SearchAttributeDeclarations } from './definition/search-attributes.ts';
export type {
  SearchAttributes, SearchAttributeValue, SearchAttributeType, SearchAttributeRange, SearchAttributeFilters,
} from './common/search-attributes.ts';
export { CANCEL_EVENT } from './definition/cancel-event.ts';
export type { ActivityOptions, RetryPolicy, Duration } from './common/activity-options.ts';
export type { HistoryEvent, HistoryEventKind, ExecutionStatus, MachineEvent } from './common/history.ts';
export {
  Failure, ApplicationFailure, TimeoutFailure, ActivityFailure, CancelledFailure, TerminatedFailure, ChildWorkflowFailure,
  toFailureInfo, fromFailureInfo,
  type FailureInfo, type ApplicationFailureOptions, type TimeoutType, type RetryState,
} from './common/failures.ts';
export {
  PerdureError, ExecutionNotFoundError, ExecutionAlreadyStartedError, ExecutionClosedError, WorkflowTypeNotFoundError,
  WorkflowIdReuseRejectedError, NamespaceNotFoundError, NamespaceAlreadyExistsError,
  InvalidDefinitionError, InvalidArgumentError, UpdateRejectedError, TaskTokenStaleError, StoreLockedError, StoreFailedError,
  StoreClosedError, CommitConflictError, StoreSchemaTooNewError, ShardOwnershipLostError, HistoryCorruptedError, RunCorruptedError, StoreCorruptedError, PayloadTooLargeError, PayloadTooDeepError, NonDeterminismError, VersionMissingError, EngineStoppedError, TimeoutError,
  ScheduleNotFoundError, ScheduleAlreadyExistsError,
} from './common/errors.ts';
export { ERROR_CODES, FAILURE_CODES, type ErrorCode, type FailureCode } from './common/error-codes.ts';
export { ID_REUSE_POLICIES, CONFLICT_POLICIES, type IdReusePolicy, type ConflictPolicy } from './common/start-policies.ts';
export {
  aesGcmCodec, AES_GCM_CODEC_NAME, type AesGcmCodecOptions,
} from './common/aes-gcm-codec.ts';
export {
  PayloadCodecError, ENCODED_MARKER, isEncodedPayload, encodePayload, decodePayload, decodePayloads,
  type PayloadCodec, type PayloadCodecOptions, type FieldSelection, type PayloadSite, type EncodedPayload, type Encoded, type Decoded,
} from './common/payload-codec.ts';
