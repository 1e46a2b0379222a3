import type { FailureInfo } from './failures.ts';
import type { ExecutionStatus } from './history.ts';
import type { SearchAttributes } from './search-attributes.ts';

/**
 * The shapes of an execution as they cross the wire: the store lists `RunSummary`s, the engine
 * answers `ExecutionDescription`, `ExecutionResult` and `QueryResult`, and the client SDK, the
 * CLI and the web UI read the same shapes back (the client narrows `output` and `context` to a
 * workflow's types through the type parameters). Declared once here, so a field added on the
 * server is seen by every reader.
 *
 * @example
 * import type { ExecutionDetail } from './execution-types.ts';
 * const detail = await response.json() as ExecutionDetail; // GET /api/v1/namespaces/default/workflows/order-42
 * detail.state.accepts; // ['CANCEL']
 */

/** What a listing shows of a run (`GET …/workflows`, `client.list()`). */
export interface RunSummary {
  runId: string;
  workflowId: string;
  type: string;
  /** The machine version (content hash) the run started on. */
  version: string;
  status: ExecutionStatus;
  /** Server time, ms since epoch. */
  startedAt: number;
  closedAt?: number;
  /**
   * Set once the run closed: the machine's state value it closed in (`'declined'`), shown beside
   * the status so that a run that completed in a failure-like final state does not read as a
   * success. Absent while running, and for runs closed before Perdure recorded it.
   */
  finalState?: unknown;
  /** The run's search attributes as of its last step (absent when it has none). */
  searchAttributes?: SearchAttributes;
}

/** An activity scheduled and not yet resolved, as `describe()` shows it. */
export interface PendingActivityView {
  activityId: string;
  activityType: string;
  /** 1-based number of the current attempt. */
  attempt: number;
  lastFailure?: FailureInfo;
}

/** A durable timer started and not yet fired or cancelled, as `describe()` shows it. */
export interface PendingTimerView {
  timerId: string;
  /** Server time, ms since epoch. */
  dueAt: number;
}

/** What `describe()` tells about an execution. */
export interface ExecutionDescription<Output = unknown> extends RunSummary {
  namespace: string;
  output?: Output;
  failure?: FailureInfo;
  /** Set while status is 'blocked': why the run cannot make progress. */
  blockedReason?: string;
  historyLength: number;
  /** The history's size in JSON characters. */
  historyBytes: number;
  pendingActivities: PendingActivityView[];
  pendingTimers: PendingTimerView[];
  pendingChildren: PendingChildView[];
  /** Set on a child workflow's runs: the parent run and the invoke id it knows the child by. */
  parent?: { namespace: string; workflowId: string; runId: string; childId: string };
  /** The run this one continued as (status 'continuedAsNew'), or continued from. */
  continuedAs?: string;
  continuedFrom?: string;
}

/** A child workflow the execution waits for, as `describe()` shows it. */
export interface PendingChildView {
  childId: string;
  workflowType: string;
  workflowId: string;
  runId: string;
  started: boolean;
  parentClosePolicy: string;
}

/**
 * How an execution ended: output when completed, failure otherwise. A run that continued as new
 * names its successor in `continuedAs` (`result()` follows the chain and answers for its end).
 */
export interface ExecutionResult<Output = unknown> {
  status: ExecutionStatus;
  /** The machine's state value the run closed in (see `RunSummary.finalState`). */
  finalState?: unknown;
  output?: Output;
  failure?: FailureInfo;
  continuedAs?: string;
}

/** An execution's current state, as `query()` and `update()` answer it. */
export interface QueryResult<Context = unknown> {
  status: ExecutionStatus;
  /** XState's state value, e.g. `'waiting'` or `{ shipping: 'packing' }`; null when the run has no snapshot. */
  value: unknown;
  context: Context;
  tags: string[];
  /** Event types the current state has transitions for. */
  accepts: string[];
}

/**
 * A description with the machine's current state beside it: what the `describe` operation (and
 * `GET /api/v1/namespaces/{ns}/workflows/{id}`) answers.
 */
export interface ExecutionDetail<Output = unknown, Context = unknown> extends ExecutionDescription<Output> {
  state: Omit<QueryResult<Context>, 'status'>;
}

/** What a migration did (`engine.migrate()`, `POST …/workflow-types/{type}/migrate`): each open run on the old version moved, or why not. */
export interface MigrateResult {
  toVersion: string;
  migrated: { workflowId: string; runId: string }[];
  failed: { workflowId: string; runId: string; code: string; message: string }[];
}
