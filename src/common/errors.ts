import { ERROR_BRAND, isBranded } from './brand.ts';
import type { ErrorCode } from './error-codes.ts';

/**
 * Base of every error the engine, the store and the SDKs throw. `code` is stable (see
 * `ERROR_CODES`); match on it, never on the message.
 *
 * @example
 * try { await engine.start('order', { workflowId: 'o-1' }) }
 * catch (e) { if (e instanceof PerdureError && e.code === 'EXECUTION_ALREADY_STARTED') … }
 */
export class PerdureError extends Error {
  /** Recognised by every loaded copy of Perdure (brand.ts). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(this, value, ERROR_BRAND);
  }
  declare readonly [ERROR_BRAND]: true;
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.name = new.target.name;
  }
}
Object.defineProperty(PerdureError.prototype, ERROR_BRAND, { value: true });

export class ExecutionNotFoundError extends PerdureError {
  constructor(readonly namespace: string, readonly workflowId: string, readonly runId?: string) {
    super('EXECUTION_NOT_FOUND', `no execution "${workflowId}"${runId === undefined ? '' : ` with run "${runId}"`} in namespace "${namespace}".`);
  }
}

export class ExecutionAlreadyStartedError extends PerdureError {
  constructor(readonly namespace: string, readonly workflowId: string, readonly runId: string) {
    super(
      'EXECUTION_ALREADY_STARTED',
      `execution "${workflowId}" is already open in namespace "${namespace}" (run ${runId}). ` +
        'Use another workflow id, or pass the same idempotencyKey to get this run back.',
    );
  }
}

/**
 * A start found the workflow id's latest run closed, and its id reuse policy refused a new run.
 *
 * @example
 * try { await engine.start('approval', { workflowId: 'a-1', idReusePolicy: 'reject' }) }
 * catch (e) { if (e instanceof WorkflowIdReuseRejectedError) console.log(e.runId, e.status) }
 */
export class WorkflowIdReuseRejectedError extends PerdureError {
  constructor(readonly namespace: string, readonly workflowId: string, readonly runId: string, readonly status: string, policy: string) {
    super(
      'WORKFLOW_ID_REUSE_REJECTED',
      `workflow id "${workflowId}" in namespace "${namespace}" was used by run ${runId}, which is ${status}, and idReusePolicy "${policy}" ` +
        `does not allow another run${policy === 'allowIfFailed' ? ' after a completed one' : ''}. Use another workflow id, or idReusePolicy "allow".`,
    );
  }
}

export class ExecutionClosedError extends PerdureError {
  constructor(readonly workflowId: string, readonly status: string) {
    super('EXECUTION_CLOSED', `execution "${workflowId}" is ${status} and takes no more events.`);
  }
}

export class WorkflowTypeNotFoundError extends PerdureError {
  constructor(readonly type: string, known: readonly string[]) {
    super(
      'WORKFLOW_TYPE_NOT_FOUND',
      `no workflow type "${type}" is registered (registered: ${known.join(', ') || 'none'}). ` +
        'Pass workflow(machine) to the engine.',
    );
  }
}

export class InvalidDefinitionError extends PerdureError {
  constructor(readonly type: string, readonly problems: readonly string[]) {
    super('INVALID_DEFINITION', `machine "${type}" cannot run durably:\n  - ${problems.join('\n  - ')}`);
  }
}

export class InvalidArgumentError extends PerdureError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** A payload over the engine's per-payload limit (`maxPayloadBytes`). */
export class PayloadTooLargeError extends PerdureError {
  constructor(readonly field: string, readonly bytes: number, readonly limit: number) {
    super('PAYLOAD_TOO_LARGE', `${field} is ${bytes} bytes as JSON, more than the limit of ${limit}: store large data elsewhere and pass a reference.`);
  }
}

/** An update the execution refused: its state cannot take the event, or the update's validator said no (`reason`). */
export class UpdateRejectedError extends PerdureError {
  constructor(readonly workflowId: string, readonly eventType: string, readonly accepted: readonly string[], readonly reason?: string) {
    super(
      'UPDATE_REJECTED',
      reason === undefined
        ? `execution "${workflowId}" does not accept "${eventType}" in its current state (it accepts: ${accepted.join(', ') || 'nothing'}).`
        : `execution "${workflowId}" rejected update "${eventType}": ${reason}`,
    );
  }
}

export class TaskTokenStaleError extends PerdureError {
  constructor(token: string) {
    super('TASK_TOKEN_STALE', `task token ${token} names an attempt that is no longer outstanding.`);
  }
}

export class StoreLockedError extends PerdureError {
  /** Who holds the lock, e.g. `pid 1234 on host x since 2025-01-01T00:00:00.000Z`, when known. */
  readonly holder?: string;
  constructor(readonly directory: string, options?: { cause?: unknown; holder?: string }) {
    super(
      'STORE_LOCKED',
      `the data directory "${directory}" is locked by ${options?.holder ?? 'another process'}. ` +
        'Stop the other server or give this one its own --data directory.',
      options,
    );
    this.holder = options?.holder;
  }
}

export class StoreFailedError extends PerdureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_FAILED', message, options);
  }
}

/**
 * The PostgreSQL database was migrated by a newer Perdure: this server refuses to touch it.
 *
 * @example
 * try { await store.open() } catch (e) { if (e instanceof StoreSchemaTooNewError) console.log(e.found, e.supported) }
 */
export class StoreSchemaTooNewError extends PerdureError {
  constructor(readonly found: number, readonly supported: number, where: string) {
    super(
      'STORE_SCHEMA_TOO_NEW',
      `the database ${where} holds Perdure schema version ${found}, newer than the version ${supported} this server knows. ` +
        'A newer Perdure migrated it: run that version (or a newer one); this server will not write to it.',
    );
  }
}

/**
 * A commit refused by the shard fence: this node no longer owns `shard` at the epoch it took it
 * with (another node took it). Nothing of the commit was written.
 *
 * @example
 * catch (e) { if (e instanceof ShardOwnershipLostError) dropShard(e.shard) }
 */
export class ShardOwnershipLostError extends PerdureError {
  constructor(readonly shard: number, readonly epoch: number, readonly owner: string | undefined, readonly currentEpoch: number | undefined) {
    super(
      'SHARD_OWNERSHIP_LOST',
      `shard ${shard} is no longer held by this server at epoch ${epoch} ` +
        `(it is now ${owner === undefined ? 'unowned' : `owned by "${owner}"`}${currentEpoch === undefined ? '' : ` at epoch ${currentEpoch}`}): ` +
        'the commit was refused and nothing of it was written. The shard\'s new owner carries its executions on.',
    );
  }
}

export class StoreClosedError extends PerdureError {
  constructor() {
    super('STORE_CLOSED', 'the store is not open.');
  }
}

export class HistoryCorruptedError extends PerdureError {
  constructor(readonly runId: string, readonly seq: number) {
    super(
      'HISTORY_CORRUPTED',
      `history event #${seq} of run ${runId} failed its checksum. Only this execution is affected; ` +
        'restore it from a backup or terminate it.',
    );
  }
}

export class NonDeterminismError extends PerdureError {
  constructor(
    readonly workflowId: string,
    readonly eventSeq: number,
    readonly expected: string,
    readonly actual: string,
    type: string,
    version: string,
  ) {
    super(
      'NONDETERMINISM',
      `replay of execution "${workflowId}" (machine "${type}"@${version}) diverged at event #${eventSeq}: ` +
        `history has ${expected} but the machine now produces ${actual}. ` +
        'The machine changed under a running execution: register the old version beside the new one, or reset the execution.',
    );
  }
}

export class EngineStoppedError extends PerdureError {
  constructor() {
    super('ENGINE_STOPPED', 'the engine is stopped and takes no new work.');
  }
}

export class TimeoutError extends PerdureError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

export class VersionMissingError extends PerdureError {
  constructor(readonly workflowId: string, readonly type: string, readonly version: string) {
    super(
      'VERSION_MISSING',
      `execution "${workflowId}" runs machine "${type}" version ${version}, which this engine does not have. ` +
        'It is blocked, not failed: register that version beside the new one and it resumes where it stopped.',
    );
  }
}

/** A frame or request broke the wire protocol; `code` says how (see ERROR_CODES). */
export class ProtocolError extends PerdureError {
  constructor(code: 'PROTOCOL_ERROR' | 'PROTOCOL_VERSION' | 'FRAME_TOO_LARGE' | 'TOO_MANY_REQUESTS', message: string, readonly supported?: readonly number[]) {
    super(code, message);
  }
}

export class UnauthorizedError extends PerdureError {
  constructor(message = 'a valid token is required: send Authorization: Bearer <token>.') {
    super('UNAUTHORIZED', message);
  }
}

export class ForbiddenError extends PerdureError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/**
 * The request named a namespace that does not exist. Every namespace but `default` is created
 * before use; the message says how.
 *
 * @example
 * try { await engine.start('order', { namespace: 'billing' }) }
 * catch (e) { if (e instanceof NamespaceNotFoundError) await engine.namespaces.create({ name: e.namespace }) }
 */
export class NamespaceNotFoundError extends PerdureError {
  constructor(readonly namespace: string) {
    super(
      'NAMESPACE_NOT_FOUND',
      `namespace "${namespace}" does not exist. Create it first: \`perdure namespace create ${namespace}\` ` +
        `(or POST /api/v1/namespaces {"name":"${namespace}"}, or client.namespaces.create('${namespace}')).`,
    );
  }
}

export class NamespaceAlreadyExistsError extends PerdureError {
  constructor(readonly namespace: string) {
    super('NAMESPACE_ALREADY_EXISTS', `namespace "${namespace}" already exists. Change it with \`perdure namespace update ${namespace}\`, or pick another name.`);
  }
}

/**
 * No schedule of that id in the namespace.
 *
 * @example
 * try { await client.schedules.getHandle('nightly').describe() }
 * catch (e) { if (e instanceof ScheduleNotFoundError) … }
 */
export class ScheduleNotFoundError extends PerdureError {
  constructor(readonly namespace: string, readonly scheduleId: string) {
    super('SCHEDULE_NOT_FOUND', `no schedule "${scheduleId}" in namespace "${namespace}". List schedules to see what exists.`);
  }
}

/** A create named a schedule id the namespace already has. */
export class ScheduleAlreadyExistsError extends PerdureError {
  constructor(readonly namespace: string, readonly scheduleId: string) {
    super(
      'SCHEDULE_ALREADY_EXISTS',
      `schedule "${scheduleId}" already exists in namespace "${namespace}". Pick another id, update it, or delete it first.`,
    );
  }
}
