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
        // Said for the CLI and HTTP user, who cannot change the engine's code: where types come from.
        'A server registers the workflow(machine) exports of its --workflows module (`perdure server --workflows <module>`, ' +
        'or createServer({ workflows }) when embedded): start one of the registered types, or export this one there and restart the server.',
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

/**
 * A payload nested deeper than `limit` levels: msgpack (the store's and the wire's format) is
 * read back with a depth limit, so a deeper value would be accepted and then be unreadable.
 */
export class PayloadTooDeepError extends PerdureError {
  constructor(readonly field: string, readonly limit: number) {
    super('PAYLOAD_TOO_DEEP', `${field} is nested more than ${limit} levels deep (arrays and objects), more than the server accepts: flatten it, or pass it as a reference.`);
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

/**
 * A commit that does not continue its run as stored (store/checked-store.ts): it starts after
 * another event than the stored history's last, from another status, or is a second first
 * commit of the run. A conflict between writers of one run, not a malformed argument: nothing
 * of it was written, and retrying the same commit can never succeed.
 *
 * @example
 * catch (e) { if (e instanceof CommitConflictError) reload(e.runId) }
 */
export class CommitConflictError extends PerdureError {
  constructor(readonly runId: string, detail: string) {
    super(
      'COMMIT_CONFLICT',
      `commit of run "${runId}" refused: ${detail} (a stale or concurrent commit of the same run). ` +
        'Nothing of it was written: re-read the run and take the step again from where it is stored.',
    );
  }
}

/** The execution's shard is held by another node, or by none for now (a hand-over). Retryable. */
export class ShardNotHeldError extends PerdureError {
  constructor(readonly shard: number, readonly owner?: { nodeId: string; address?: string }) {
    super(
      'SHARD_NOT_HELD',
      `shard ${shard} is not held by this server (${owner ? `node "${owner.nodeId}"${owner.address ? ` at ${owner.address}` : ''} holds it` : 'it is being handed over'}): ` +
        'retry; the cluster routes the call to its owner.',
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

/** A stored run record failed its checksum (store/run-record.ts): only that execution is affected. */
export class RunCorruptedError extends PerdureError {
  constructor(readonly runId: string) {
    super(
      'RUN_CORRUPTED',
      `the stored record of run ${runId} failed its checksum. Only this execution is affected; ` +
        'restore it from a backup or terminate it.',
    );
  }
}

/**
 * LevelDB met a damaged file in the data directory. Not retryable: the bytes on disk are wrong.
 *
 * @example
 * try { await store.open() } catch (e) { if (e instanceof StoreCorruptedError) console.error(e.directory) }
 */
export class StoreCorruptedError extends PerdureError {
  constructor(readonly directory: string, what: string, options?: { cause?: unknown }) {
    super(
      'STORE_CORRUPTED',
      `the data directory "${directory}" is damaged: ${what}. Retrying does not help: stop the server and restore the directory ` +
        'from a backup (copy it before trying LevelDB\'s repair, which can drop data).',
      options,
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

/**
 * A machine step was stopped (past the microstep limit or the time budget) or its machine code
 * threw. Nothing of the step was committed: the event that caused it was refused, and the
 * execution is blocked at the state it was in (docs/workflow-isolation.md). Thrown to the sender
 * of that event and of every later one until an operator acts.
 *
 * @example
 * try { await client.signal({ workflowId: 'spin-1' }, { type: 'GO' }) }
 * catch (e) { if (e instanceof PerdureError && e.code === 'MICROSTEP_LIMIT_EXCEEDED') … }
 */
export class MachineStepError extends PerdureError {
  constructor(
    code: 'MICROSTEP_LIMIT_EXCEEDED' | 'STEP_TIME_BUDGET_EXCEEDED' | 'MACHINE_CODE_FAILED',
    readonly workflowId: string,
    readonly runId: string,
    /** The state value the step stopped in. */
    readonly state: unknown,
    detail: string,
    /** 'blocked': the run stays open at its last committed state; 'refused': a first step, so no run was made. */
    readonly outcome: 'blocked' | 'refused',
    options?: { cause?: unknown },
  ) {
    super(code, `execution "${workflowId}" (run ${runId}) stopped at state ${JSON.stringify(state)}: ${detail}. ` + (outcome === 'blocked'
      ? 'Nothing of the step was committed and the execution is blocked: fix the machine and migrate the run to the fixed version, or terminate it; a server restart retries the step (raise the limit first if the step is legitimate).'
      : 'Nothing was committed: the run was not started. Fix the machine (or its input) and start again.'), options);
  }
}

/** A frame or request broke the wire protocol; `code` says how (see ERROR_CODES). */
export class ProtocolError extends PerdureError {
  constructor(code: 'PROTOCOL_ERROR' | 'PROTOCOL_VERSION' | 'FRAME_TOO_LARGE' | 'TOO_MANY_REQUESTS' | 'HELLO_TIMEOUT' | 'SEND_BUFFER_FULL', message: string, readonly supported?: readonly number[]) {
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
