import type { FailureInfo } from './failures.ts';
import type { ActivityOptions } from './activity-options.ts';
import type { RunSummary } from './execution-types.ts';
import type { ParentClosePolicy } from './parent-close-policy.ts';
import type { SearchAttributes } from './search-attributes.ts';

/**
 * The run model: what Perdure keeps of one run besides its history — its record, and the
 * activities, timers, children and outbox items it has pending. The engine's pure core decides
 * over these shapes and every store persists them, so they belong to neither: both import them
 * from here.
 */

/** Everything the store keeps of a run besides its history. */
export interface RunRecord extends RunSummary {
  namespace: string;
  /** seq of the last history event; the run's history is exactly events 1..lastSeq. */
  lastSeq: number;
  /** The machine's persisted snapshot, opaque to the store (the engine stores JSON text). A cache of replaying the history. */
  snapshot: unknown;
  output?: unknown;
  failure?: FailureInfo;
  idempotencyKey?: string;
  /** Activities scheduled and not yet resolved, by activity id (the invoke id). */
  activities: Record<string, PendingActivity>;
  /** Durable timers started and not yet fired or cancelled, by timer id. */
  timers: Record<string, PendingTimer>;
  /** Set while status is 'blocked': why the run cannot make progress. */
  blockedReason?: string;
  /** Child workflows started (or to be started) and not yet closed, by child id (the invoke id). */
  children?: Record<string, PendingChild>;
  /** Set on a child workflow's runs (and on the runs it continued as): whom to tell when it closes. */
  parent?: ParentRef;
  /** Work this run's commits asked for outside the run, not yet done: see engine/runtime/outbox.ts. */
  outbox?: Record<string, OutboxItem>;
  /** Size of the history in JSON characters (the sum over its events). */
  historyBytes?: number;
  /** The run this one continued as (status 'continuedAsNew'), or continued from. */
  continuedAs?: string;
  continuedFrom?: string;
  /**
   * Values the workflow publishes for listing (see common/search-attributes.ts); the store
   * indexes each one, and moves the entries when they change. Absent or `{}`: none.
   */
  searchAttributes?: SearchAttributes;
}

export interface PendingChild {
  childId: string;
  workflowType: string;
  workflowId: string;
  /** The child's run id, derived from the parent's run, the child id and the schedule's seq. */
  runId: string;
  input: unknown;
  parentClosePolicy: ParentClosePolicy;
  started: boolean;
}

export interface ParentRef {
  namespace: string;
  workflowId: string;
  runId: string;
  childId: string;
}

/**
 * Work a commit asks for beyond its own run (a transactional outbox): written in the same
 * atomic commit as the events that call for it, indexed in the timer index (kind 'outbox') so
 * that it is found again after a crash, done at least once by idempotent handlers, and removed
 * by a commit of its own once done.
 */
export type OutboxItem = { id: string; dueAt: number } & (
  | { kind: 'startChild'; childId: string }
  | { kind: 'closeChild'; childId: string; workflowId: string; runId: string; action: 'cancel' | 'terminate'; reason: string }
  | { kind: 'notifyParent' }
  | { kind: 'continueAsNew'; runId: string; input: unknown }
);

export interface PendingActivity {
  activityId: string;
  activityType: string;
  input: unknown;
  /** Local activities (fromPromise) run inside the engine process; others go to a task queue. */
  local: boolean;
  taskQueue: string;
  options: ActivityOptions;
  /** 1-based number of the current attempt. */
  attempt: number;
  scheduledAt: number;
  /** When the current attempt becomes dispatchable (after a retry backoff). */
  attemptReadyAt: number;
  heartbeatDetails?: unknown;
  lastFailure?: FailureInfo;
  cancelRequested?: boolean;
}

export interface PendingTimer {
  timerId: string;
  dueAt: number;
  event: { type: string; [key: string]: unknown };
}
