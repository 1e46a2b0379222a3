import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { ERROR_CODES, FAILURE_CODES, type ErrorCode, type FailureCode } from '../../../src/common/error-codes.ts';
import * as errors from '../../../src/common/errors.ts';
import * as failures from '../../../src/common/failures.ts';

const {
  PerdureError, ExecutionNotFoundError, ExecutionAlreadyStartedError, ExecutionClosedError, WorkflowTypeNotFoundError,
  InvalidDefinitionError, InvalidArgumentError, UpdateRejectedError, TaskTokenStaleError, StoreLockedError,
  StoreFailedError, StoreClosedError, CommitConflictError, StoreSchemaTooNewError, ShardOwnershipLostError, ShardNotHeldError, HistoryCorruptedError, RunCorruptedError, StoreCorruptedError, NonDeterminismError, EngineStoppedError, TimeoutError,
  VersionMissingError,
  MachineStepError,
  WorkflowIdReuseRejectedError,
  ProtocolError,
  UnauthorizedError,
  ForbiddenError,
  NamespaceNotFoundError,
  NamespaceAlreadyExistsError,
  PayloadTooLargeError,
  PayloadTooDeepError,
  ScheduleNotFoundError,
  ScheduleAlreadyExistsError,
} = errors;
const { Failure, ApplicationFailure, TimeoutFailure, ActivityFailure, CancelledFailure, TerminatedFailure, ChildWorkflowFailure } = failures;

/** One instance of every error class, and the code it must carry. */
const errorSamples: Record<string, [errors.PerdureError, ErrorCode]> = {
  PerdureError: [new PerdureError('TIMEOUT', 'waited 5 s'), 'TIMEOUT'],
  ExecutionNotFoundError: [new ExecutionNotFoundError('default', 'order-42'), 'EXECUTION_NOT_FOUND'],
  ExecutionAlreadyStartedError: [new ExecutionAlreadyStartedError('default', 'order-42', 'run-1'), 'EXECUTION_ALREADY_STARTED'],
  ExecutionClosedError: [new ExecutionClosedError('order-42', 'completed'), 'EXECUTION_CLOSED'],
  WorkflowIdReuseRejectedError: [new WorkflowIdReuseRejectedError('default', 'order-42', 'run-1', 'completed', 'reject'), 'WORKFLOW_ID_REUSE_REJECTED'],
  WorkflowTypeNotFoundError: [new WorkflowTypeNotFoundError('checkout', ['order']), 'WORKFLOW_TYPE_NOT_FOUND'],
  InvalidDefinitionError: [new InvalidDefinitionError('checkout', ['state "checkout.a": no']), 'INVALID_DEFINITION'],
  InvalidArgumentError: [new InvalidArgumentError('workflowId must be a non-empty string'), 'INVALID_ARGUMENT'],
  UpdateRejectedError: [new UpdateRejectedError('order-42', 'APPROVE', ['CANCEL']), 'UPDATE_REJECTED'],
  PayloadTooLargeError: [new PayloadTooLargeError('input', 3_000_000, 2_097_152), 'PAYLOAD_TOO_LARGE'],
  PayloadTooDeepError: [new PayloadTooDeepError('input', 256), 'PAYLOAD_TOO_DEEP'],
  TaskTokenStaleError: [new TaskTokenStaleError('abc'), 'TASK_TOKEN_STALE'],
  StoreLockedError: [new StoreLockedError('./.perdure', { cause: new Error('LOCK held') }), 'STORE_LOCKED'],
  StoreFailedError: [new StoreFailedError('write failed: ENOSPC'), 'STORE_FAILED'],
  StoreClosedError: [new StoreClosedError(), 'STORE_CLOSED'],
  CommitConflictError: [new CommitConflictError('r-1', 'it continues the run after event #3, but the stored run does not end there'), 'COMMIT_CONFLICT'],
  StoreSchemaTooNewError: [new StoreSchemaTooNewError(2, 1, 'postgres://perdure@db/perdure (schema perdure)'), 'STORE_SCHEMA_TOO_NEW'],
  ShardOwnershipLostError: [new ShardOwnershipLostError(7, 4, 'node-b', 5), 'SHARD_OWNERSHIP_LOST'],
  ShardNotHeldError: [new ShardNotHeldError(7, { nodeId: 'node-b', address: '10.0.0.2:7233' }), 'SHARD_NOT_HELD'],
  HistoryCorruptedError: [new HistoryCorruptedError('run-1', 17), 'HISTORY_CORRUPTED'],
  RunCorruptedError: [new RunCorruptedError('run-1'), 'RUN_CORRUPTED'],
  StoreCorruptedError: [new StoreCorruptedError('./.perdure', 'Corruption: bad block type'), 'STORE_CORRUPTED'],
  NonDeterminismError: [new NonDeterminismError('order-42', 17, 'ActivityScheduled("charge")', 'TimerStarted("reminder")', 'checkout', '3f9c'), 'NONDETERMINISM'],
  EngineStoppedError: [new EngineStoppedError(), 'ENGINE_STOPPED'],
  TimeoutError: [new TimeoutError('order-42 did not reach "paid" within 5 s'), 'TIMEOUT'],
  VersionMissingError: [new VersionMissingError('order-42', 'checkout', '3f9c'), 'VERSION_MISSING'],
  MachineStepError: [new MachineStepError('MICROSTEP_LIMIT_EXCEEDED', 'spin-1', 'run-1', 'spin2', 'the step took more than 10000 microsteps', 'blocked'), 'MICROSTEP_LIMIT_EXCEEDED'],
  ProtocolError: [new ProtocolError('PROTOCOL_VERSION', 'protocol version 9 is not supported (supported: 1)', [1]), 'PROTOCOL_VERSION'],
  UnauthorizedError: [new UnauthorizedError(), 'UNAUTHORIZED'],
  ForbiddenError: [new ForbiddenError('token is not valid for namespace "billing"'), 'FORBIDDEN'],
  NamespaceNotFoundError: [new NamespaceNotFoundError('billing'), 'NAMESPACE_NOT_FOUND'],
  NamespaceAlreadyExistsError: [new NamespaceAlreadyExistsError('billing'), 'NAMESPACE_ALREADY_EXISTS'],
  ScheduleNotFoundError: [new ScheduleNotFoundError('default', 'nightly'), 'SCHEDULE_NOT_FOUND'],
  ScheduleAlreadyExistsError: [new ScheduleAlreadyExistsError('default', 'nightly'), 'SCHEDULE_ALREADY_EXISTS'],
};

/** One instance of every concrete failure class, and the code it must carry. */
const failureSamples: Record<string, [failures.Failure, FailureCode]> = {
  ApplicationFailure: [ApplicationFailure.create({ message: 'card declined' }), 'APPLICATION_FAILURE'],
  TimeoutFailure: [new TimeoutFailure('startToClose'), 'TIMEOUT_FAILURE'],
  ActivityFailure: [new ActivityFailure('charge', 'a1', 'maximumAttemptsReached', new Error('down')), 'ACTIVITY_FAILURE'],
  CancelledFailure: [new CancelledFailure(), 'CANCELLED_FAILURE'],
  TerminatedFailure: [new TerminatedFailure('operator'), 'TERMINATED_FAILURE'],
  ChildWorkflowFailure: [new ChildWorkflowFailure('payment', 'pay-1', new Error('down')), 'CHILD_WORKFLOW_FAILURE'],
};

/** Names of the classes a module exports that extend `base` (base included unless abstract). */
function classesExtending(module: Record<string, unknown>, base: Function, includeBase: boolean): string[] {
  return Object.entries(module)
    .filter(([, value]) => typeof value === 'function' && (value.prototype instanceof base || (includeBase && value === base)))
    .map(([name]) => name)
    .sort();
}

/** `code → [meaning, fix]` of the table under `## <heading>` in the generated doc. */
function documentedCodes(doc: string, heading: string): Map<string, [string, string]> {
  const section = doc.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  expect(section, `docs/error-codes.md has no "## ${heading}" section`).toBeDefined();
  const rows = new Map<string, [string, string]>();
  for (const line of section!.split('\n')) {
    const cells = line.trim().split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim().replace(/\\\|/g, '|'));
    const code = /^`([A-Z_]+)`$/.exec(cells[0] ?? '')?.[1];
    if (code === undefined) continue;
    expect(cells, `row of ${code} in docs/error-codes.md`).toHaveLength(3);
    expect(rows.has(code), `${code} is documented twice`).toBe(false);
    rows.set(code, [cells[1], cells[2]]);
  }
  return rows;
}

describe('error codes', () => {
  it('has a sample here for every error class errors.ts exports', () => {
    expect(Object.keys(errorSamples).sort()).toEqual(classesExtending(errors, PerdureError, true));
  });

  it.each(Object.entries(errorSamples))('%s carries its catalogued code, and a message that starts with it', (name, [error, code]) => {
    expect(error).toBeInstanceOf(PerdureError);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(Object.keys(ERROR_CODES)).toContain(error.code);
    expect(error.message.startsWith(`${code}: `)).toBe(true);
    expect(error.message.slice(`${code}: `.length).trim()).not.toBe('');
  });

  it('has a sample here for every failure class failures.ts exports', () => {
    expect(Object.keys(failureSamples).sort()).toEqual(classesExtending(failures, Failure, false));
  });

  it.each(Object.entries(failureSamples))('%s carries its catalogued failure code', (name, [failure, code]) => {
    expect(failure).toBeInstanceOf(Failure);
    expect(failure.name).toBe(name);
    expect(failure.code).toBe(code);
    expect(Object.keys(FAILURE_CODES)).toContain(failure.code);
  });

  it('never uses one code for both an error and a failure', () => {
    const errorCodes = new Set(Object.keys(ERROR_CODES));
    expect(Object.keys(FAILURE_CODES).filter((code) => errorCodes.has(code))).toEqual([]);
  });

  it('gives every code a meaning and a fix', () => {
    for (const [code, { meaning, fix }] of Object.entries({ ...ERROR_CODES, ...FAILURE_CODES })) {
      expect(meaning.trim().length, `meaning of ${code}`).toBeGreaterThan(0);
      expect(fix.trim().length, `fix of ${code}`).toBeGreaterThan(0);
    }
  });
});

describe('docs/error-codes.md', () => {
  // Regenerate with `npx tsx scripts/gen-error-docs.ts` when this fails.
  const doc = readFileSync(new URL('../../../docs/error-codes.md', import.meta.url), 'utf8');

  it('opens with its title and has the "Code | Meaning | How to fix" tables', () => {
    expect(doc.startsWith('# Error and failure codes\n')).toBe(true);
    expect(doc.match(/^\| Code \| Meaning \| How to fix \|$/gm)).toHaveLength(2);
  });

  it.each([
    ['Errors', ERROR_CODES],
    ['Failures', FAILURE_CODES],
  ] as const)('documents exactly the catalogued codes under "%s", each with its meaning and fix', (heading, catalog) => {
    const documented = documentedCodes(doc, heading);
    expect([...documented.keys()]).toEqual(Object.keys(catalog));
    for (const [code, { meaning, fix }] of Object.entries(catalog)) {
      expect(documented.get(code), `row of ${code}`).toEqual([meaning, fix]);
    }
  });
});
