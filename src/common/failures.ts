import { FAILURE_BRAND, isBranded } from './brand.ts';
import type { FailureCode } from './error-codes.ts';

/**
 * Failures are what crosses the wire and what users catch: in a machine as the `error` of an
 * `xstate.error.actor.<id>` event, in a client as the rejection of `result()`. They survive a
 * round trip through `toFailureInfo` / `fromFailureInfo` with their `cause` chain intact.
 */
export interface FailureInfo {
  code: FailureCode;
  message: string;
  /** ApplicationFailure's type (user-chosen), or the name of a thrown Error. */
  type?: string;
  nonRetryable?: boolean;
  details?: unknown[];
  timeoutType?: TimeoutType;
  activityType?: string;
  activityId?: string;
  retryState?: RetryState;
  stack?: string;
  cause?: FailureInfo;
}

export type TimeoutType = 'startToClose' | 'scheduleToStart' | 'scheduleToClose' | 'heartbeat';
export type RetryState = 'maximumAttemptsReached' | 'nonRetryableFailure' | 'timeout' | 'cancelRequested';

export abstract class Failure extends Error {
  /** Recognised by every loaded copy of Perdure (brand.ts). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(this, value, FAILURE_BRAND);
  }
  declare readonly [FAILURE_BRAND]: true;
  abstract readonly code: FailureCode;
  constructor(message: string, cause?: Error) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }
  override get cause(): Error | undefined {
    return super.cause as Error | undefined;
  }
  override set cause(value: Error | undefined) {
    Object.defineProperty(this, 'cause', { value, writable: true, configurable: true });
  }
}

export interface ApplicationFailureOptions {
  message: string;
  /** A name callers and retry policies match on (`nonRetryableErrorTypes`). */
  type?: string;
  /** When true the server does not retry the activity, whatever the retry policy says. */
  nonRetryable?: boolean;
  details?: unknown[];
  cause?: Error;
}

/**
 * The failure user code throws on purpose.
 *
 * @example
 * throw ApplicationFailure.create({ message: 'card declined', type: 'CardDeclined', nonRetryable: true })
 */
export class ApplicationFailure extends Failure {
  readonly code = 'APPLICATION_FAILURE' as const;
  readonly type: string;
  readonly nonRetryable: boolean;
  readonly details: unknown[];
  private constructor(options: ApplicationFailureOptions) {
    super(options.message, options.cause);
    this.type = options.type ?? 'Error';
    this.nonRetryable = options.nonRetryable ?? false;
    this.details = options.details ?? [];
  }
  static create(options: ApplicationFailureOptions): ApplicationFailure {
    return new ApplicationFailure(options);
  }
  /** A failure the server will not retry. */
  static nonRetryable(message: string, type?: string, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure({ message, type, nonRetryable: true, details });
  }
}

/** An activity exceeded one of its timeouts. `details` holds the last heartbeat details. */
export class TimeoutFailure extends Failure {
  readonly code = 'TIMEOUT_FAILURE' as const;
  constructor(readonly timeoutType: TimeoutType, readonly lastHeartbeatDetails?: unknown) {
    super(`activity ${timeoutType} timeout`);
  }
}

/** What a machine receives when an activity has failed for the last time; `cause` says why. */
export class ActivityFailure extends Failure {
  readonly code = 'ACTIVITY_FAILURE' as const;
  constructor(
    readonly activityType: string,
    readonly activityId: string,
    readonly retryState: RetryState,
    cause: Error,
  ) {
    super(`activity "${activityType}" (${activityId}) failed: ${cause.message}`, cause);
  }
}

export class CancelledFailure extends Failure {
  readonly code = 'CANCELLED_FAILURE' as const;
  constructor(message = 'cancelled', readonly details: unknown[] = []) {
    super(message);
  }
}

export class TerminatedFailure extends Failure {
  readonly code = 'TERMINATED_FAILURE' as const;
  constructor(readonly reason: string) {
    super(`terminated: ${reason}`);
  }
}

/**
 * What a parent machine receives when a child workflow failed, was cancelled or terminated, or
 * could not be started (then `runId` is undefined); `cause` is the child's own failure.
 */
export class ChildWorkflowFailure extends Failure {
  readonly code = 'CHILD_WORKFLOW_FAILURE' as const;
  constructor(readonly workflowType: string, readonly workflowId: string, cause: Error, readonly runId?: string) {
    super(`child workflow "${workflowType}" (${workflowId}) ${runId === undefined ? 'could not start' : 'failed'}: ${cause.message}`, cause);
  }
}

const MAX_CAUSE_DEPTH = 20;

/** Turns anything thrown into a plain, serialisable FailureInfo (depth-limited cause chain). */
export function toFailureInfo(error: unknown, depth = 0): FailureInfo {
  const cause = (e: Error): FailureInfo | undefined =>
    e.cause !== undefined && depth < MAX_CAUSE_DEPTH ? toFailureInfo(e.cause, depth + 1) : undefined;
  if (error instanceof ApplicationFailure) {
    return strip({ code: error.code, message: error.message, type: error.type, nonRetryable: error.nonRetryable,
      details: error.details.length ? error.details : undefined, stack: error.stack, cause: cause(error) });
  }
  if (error instanceof TimeoutFailure) {
    return strip({ code: error.code, message: error.message, timeoutType: error.timeoutType,
      details: error.lastHeartbeatDetails === undefined ? undefined : [error.lastHeartbeatDetails] });
  }
  if (error instanceof ActivityFailure) {
    return strip({ code: error.code, message: error.message, activityType: error.activityType,
      activityId: error.activityId, retryState: error.retryState, cause: cause(error) });
  }
  if (error instanceof ChildWorkflowFailure) {
    return strip({ code: error.code, message: error.message, type: error.workflowType,
      details: error.runId === undefined ? [error.workflowId] : [error.workflowId, error.runId], cause: cause(error) });
  }
  if (error instanceof CancelledFailure || error instanceof TerminatedFailure) {
    return strip({ code: error.code, message: error.message,
      details: error instanceof CancelledFailure && error.details.length ? error.details : undefined });
  }
  if (error instanceof Error) {
    return strip({ code: 'APPLICATION_FAILURE', message: error.message, type: error.name, stack: error.stack, cause: cause(error) });
  }
  return { code: 'APPLICATION_FAILURE', message: typeof error === 'string' ? error : safeString(error), type: 'Error' };
}

/**
 * Rebuilds the typed failure (with its cause chain) from its serialised form. The chain is cut at
 * the same depth as toFailureInfo's: the info may come from a worker, and a chain nested deeper
 * than the stack would otherwise throw RangeError inside the engine.
 */
export function fromFailureInfo(info: FailureInfo): Failure {
  return failureFromInfo(info, 0);
}

function failureFromInfo(info: FailureInfo, depth: number): Failure {
  const cause = info.cause && depth < MAX_CAUSE_DEPTH ? failureFromInfo(info.cause, depth + 1) : undefined;
  let failure: Failure;
  switch (info.code) {
    case 'TIMEOUT_FAILURE':
      failure = new TimeoutFailure(info.timeoutType ?? 'startToClose', info.details?.[0]);
      break;
    case 'ACTIVITY_FAILURE':
      failure = new ActivityFailure(info.activityType ?? 'unknown', info.activityId ?? 'unknown',
        info.retryState ?? 'maximumAttemptsReached', cause ?? ApplicationFailure.create({ message: info.message }));
      break;
    case 'CHILD_WORKFLOW_FAILURE':
      failure = new ChildWorkflowFailure(info.type ?? 'unknown', String(info.details?.[0] ?? 'unknown'),
        cause ?? ApplicationFailure.create({ message: info.message }), info.details?.[1] === undefined ? undefined : String(info.details[1]));
      break;
    case 'CANCELLED_FAILURE':
      failure = new CancelledFailure(info.message, info.details ?? []);
      break;
    case 'TERMINATED_FAILURE':
      failure = new TerminatedFailure(info.message.replace(/^terminated: /, ''));
      break;
    default:
      failure = ApplicationFailure.create({ message: info.message, type: info.type,
        nonRetryable: info.nonRetryable, details: info.details, cause });
  }
  if (info.stack) failure.stack = info.stack;
  return failure;
}

function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// Failures land in machine context and in stored snapshots, which are JSON: keep their shape.
Object.defineProperty(Failure.prototype, 'toJSON', {
  value(this: Failure) {
    return toFailureInfo(this);
  },
});

Object.defineProperty(Failure.prototype, FAILURE_BRAND, { value: true });
