import type { ErrorCode } from '../common/error-codes.ts';
import {
  EngineStoppedError, ExecutionAlreadyStartedError, ExecutionClosedError, ExecutionNotFoundError, ForbiddenError,
  InvalidArgumentError, NamespaceAlreadyExistsError, NamespaceNotFoundError, NonDeterminismError, PerdureError, ProtocolError, TimeoutError, UnauthorizedError,
  UpdateRejectedError, PayloadTooLargeError, PayloadTooDeepError, VersionMissingError, WorkflowIdReuseRejectedError, WorkflowTypeNotFoundError,
} from '../common/errors.ts';
import { ScheduleAlreadyExistsError, ScheduleNotFoundError } from '../common/errors.ts';

/** Lives beside the shared socket that raises it; the client's entry point exports it from here. */
export { ConnectionLostError } from '../sdk-socket/connection-lost.ts';

/** Error classes a server code is rebuilt as, so `instanceof` works on the client as on the server. */
const CLASS_OF: Partial<Record<ErrorCode, abstract new (...args: never[]) => PerdureError>> = {
  EXECUTION_NOT_FOUND: ExecutionNotFoundError,
  EXECUTION_ALREADY_STARTED: ExecutionAlreadyStartedError,
  EXECUTION_CLOSED: ExecutionClosedError,
  WORKFLOW_ID_REUSE_REJECTED: WorkflowIdReuseRejectedError,
  WORKFLOW_TYPE_NOT_FOUND: WorkflowTypeNotFoundError,
  NAMESPACE_NOT_FOUND: NamespaceNotFoundError,
  NAMESPACE_ALREADY_EXISTS: NamespaceAlreadyExistsError,
  INVALID_ARGUMENT: InvalidArgumentError,
  UPDATE_REJECTED: UpdateRejectedError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  PAYLOAD_TOO_DEEP: PayloadTooDeepError,
  TIMEOUT: TimeoutError,
  VERSION_MISSING: VersionMissingError,
  NONDETERMINISM: NonDeterminismError,
  ENGINE_STOPPED: EngineStoppedError,
  UNAUTHORIZED: UnauthorizedError,
  FORBIDDEN: ForbiddenError,
  PROTOCOL_ERROR: ProtocolError,
  PROTOCOL_VERSION: ProtocolError,
  FRAME_TOO_LARGE: ProtocolError,
  TOO_MANY_REQUESTS: ProtocolError,
  HELLO_TIMEOUT: ProtocolError,
  SEND_BUFFER_FULL: ProtocolError,
  SCHEDULE_NOT_FOUND: ScheduleNotFoundError,
  SCHEDULE_ALREADY_EXISTS: ScheduleAlreadyExistsError,
};

/** Codes whose error classes have a `workflowId` field. */
const NAMES_WORKFLOW: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'EXECUTION_NOT_FOUND', 'EXECUTION_ALREADY_STARTED', 'WORKFLOW_ID_REUSE_REJECTED', 'EXECUTION_CLOSED', 'UPDATE_REJECTED', 'VERSION_MISSING', 'NONDETERMINISM',
]);

/** What the client knows about the request an error answers; copied onto the error. */
export interface ErrorContext {
  namespace?: string;
  workflowId?: string;
  eventType?: string;
  scheduleId?: string;
}

/**
 * Rebuilds a server error from its `{ code, message }`: an instance of the same class as on the
 * server (`UpdateRejectedError`, `ExecutionNotFoundError`, …; `PerdureError` for the others)
 * with the same `code` and message. Fields the wire does not carry are filled from what the
 * client sent (`namespace`, `workflowId`, `eventType`) and are otherwise absent.
 */
export function remoteError(code: string, message: string, context: ErrorContext = {}, supported?: readonly number[]): PerdureError {
  const known = code as ErrorCode;
  const text = message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
  // Reflect.construct runs PerdureError's constructor (code, message, stack, name) with the
  // subclass's prototype: the subclass constructors take structured arguments the wire lacks.
  const Class = CLASS_OF[known] ?? PerdureError;
  const error = Reflect.construct(PerdureError, [known, text], Class) as PerdureError;
  const fields: Record<string, unknown> = {};
  if (context.namespace !== undefined && (Class === ExecutionNotFoundError || Class === ExecutionAlreadyStartedError || Class === WorkflowIdReuseRejectedError
    || Class === NamespaceNotFoundError || Class === NamespaceAlreadyExistsError)) fields.namespace = context.namespace;
  if (context.workflowId !== undefined && NAMES_WORKFLOW.has(known)) fields.workflowId = context.workflowId;
  if (context.eventType !== undefined && known === 'UPDATE_REJECTED') fields.eventType = context.eventType;
  if (supported && Class === ProtocolError) fields.supported = supported;
  if (Class === ScheduleNotFoundError || Class === ScheduleAlreadyExistsError) Object.assign(fields, { namespace: context.namespace, scheduleId: context.scheduleId });
  return Object.assign(error, fields);
}
