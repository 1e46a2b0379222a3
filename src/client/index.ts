/**
 * The client SDK: start, signal, update, query, cancel, terminate and await workflow executions
 * on a Perdure server, over one WebSocket.
 *
 * @example
 * import { Client, UpdateRejectedError, CancelledFailure } from 'perdure/client';
 * import type { approvalWorkflow } from './machines/approval.ts';
 *
 * const client = await Client.connect({ address: '127.0.0.1:7233', namespace: 'default', token: process.env.PERDURE_TOKEN });
 * const handle = await client.start<typeof approvalWorkflow>('approval', { input: { request: 'laptop', timeoutMs: 3_600_000 } });
 * console.log((await handle.query()).accepts);          // ['APPROVE', 'REJECT']
 * await handle.update({ type: 'APPROVE', approver: 'ann' }); // UpdateRejectedError if not accepted now
 * console.log(await handle.result());                   // { decision: 'approved', approver: 'ann', … }
 * await client.close();
 */
export {
  Client, type ClientOptions, type StartWorkflowOptions, type SignalWithStartOptions, type ListWorkflowsOptions,
  type CountWorkflowsOptions, type SearchAttributeQuery,
} from './client.ts';
export type {
  SearchAttributes, SearchAttributeValue, SearchAttributeRange, SearchAttributeType,
} from '../common/search-attributes.ts';
export { WorkflowHandle } from './workflow-handle.ts';
export { NamespaceClient, type NamespaceOptions } from './namespace-client.ts';
export type { NamespaceInfo } from '../common/namespaces.ts';
export { ScheduleClient } from './schedule-client.ts';
export { ScheduleHandle } from './schedule-handle.ts';
export type {
  ScheduleOptions, ScheduleSpec, ScheduleAction, SchedulePolicies, ScheduleUpdate, ScheduleDescription, ScheduleSummary, SchedulePage,
  ScheduleActionResult, ScheduleCounts, ScheduleState, ScheduleFailure, TriggerResult, OverlapPolicy,
} from '../common/schedule-types.ts';
export { ConnectionLostError } from './errors.ts';
export { webSocketUrl } from '../common/address.ts';
export type {
  WorkflowLike, InputOf, OutputOf, EventOf, ContextOf, WorkflowState, WorkflowDescription,
  WorkflowExecutionSummary, WorkflowExecutionPage, WorkflowTypeInfo,
} from './types.ts';
export {
  Failure, ApplicationFailure, TimeoutFailure, ActivityFailure, CancelledFailure, TerminatedFailure, ChildWorkflowFailure,
  fromFailureInfo, type FailureInfo,
} from '../common/failures.ts';
export {
  PerdureError, ExecutionNotFoundError, ExecutionAlreadyStartedError, ExecutionClosedError, WorkflowTypeNotFoundError,
  WorkflowIdReuseRejectedError, NamespaceNotFoundError, NamespaceAlreadyExistsError, ScheduleNotFoundError, ScheduleAlreadyExistsError,
  InvalidArgumentError, UpdateRejectedError, PayloadTooLargeError, PayloadTooDeepError, TimeoutError, VersionMissingError, UnauthorizedError, ForbiddenError, ProtocolError,
} from '../common/errors.ts';
export { ERROR_CODES, type ErrorCode } from '../common/error-codes.ts';
export type { IdReusePolicy, ConflictPolicy } from '../common/start-policies.ts';
export type { ExecutionStatus, HistoryEvent, MachineEvent } from '../common/history.ts';
export {
  aesGcmCodec, AES_GCM_CODEC_NAME, type AesGcmCodecOptions,
} from '../common/aes-gcm-codec.ts';
export {
  PayloadCodecError, ENCODED_MARKER, isEncodedPayload, encodePayload, decodePayload, decodePayloads,
  type PayloadCodec, type PayloadCodecOptions, type FieldSelection, type PayloadSite, type EncodedPayload, type Encoded, type Decoded,
} from '../common/payload-codec.ts';
