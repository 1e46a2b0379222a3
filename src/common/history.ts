import type { FailureInfo } from './failures.ts';
import type { ActivityOptions } from './activity-options.ts';
import type { ParentClosePolicy } from './parent-close-policy.ts';

/**
 * The event history of one run: append-only, numbered from 1 without gaps. It is the source of
 * truth; the stored snapshot is a cache that replaying the history must reproduce.
 *
 * Two kinds of event:
 * - *inputs* (`DELIVERED_KINDS`) are delivered to the machine as XState events, in order;
 * - *records* say what the engine decided (commands) or what happened to an activity attempt;
 *   replay re-derives the commands and compares them with these.
 */
export type HistoryEvent = HistoryEventBody & {
  /** 1-based position in the run's history. */
  seq: number;
  /** Server time (ms since epoch) at which the event was recorded. */
  at: number;
};

export type HistoryEventBody =
  // ── inputs: delivered to the machine ──
  | { kind: 'WorkflowStarted'; type: string; version: string; namespace: string; workflowId: string; input: unknown }
  | { kind: 'SignalReceived'; event: MachineEvent }
  | { kind: 'UpdateAccepted'; event: MachineEvent; updateId: string }
  | { kind: 'TimerFired'; timerId: string; event: MachineEvent; dueAt: number }
  | { kind: 'ActivityCompleted'; activityId: string; attempt: number; output: unknown }
  | { kind: 'ActivityFailed'; activityId: string; attempt: number; failure: FailureInfo }
  | { kind: 'CancelRequested'; reason: string }
  | { kind: 'ChildWorkflowCompleted'; childId: string; workflowId: string; runId: string; output: unknown }
  /** The child failed, was canceled or terminated, or could not be started (then `runId` is absent). */
  | { kind: 'ChildWorkflowFailed'; childId: string; workflowId: string; runId?: string; failure: FailureInfo }
  // ── records: commands decided by the machine ──
  | { kind: 'ActivityScheduled'; activityId: string; activityType: string; input: unknown; local: boolean; options: ActivityOptions }
  | { kind: 'ActivityCancelRequested'; activityId: string }
  | { kind: 'TimerStarted'; timerId: string; dueAt: number; delayMs: number; event: MachineEvent }
  | { kind: 'TimerCanceled'; timerId: string }
  | { kind: 'WorkflowCompleted'; output: unknown }
  | { kind: 'WorkflowFailed'; failure: FailureInfo }
  | { kind: 'WorkflowCanceled'; reason: string }
  | { kind: 'ChildWorkflowScheduled'; childId: string; workflowType: string; workflowId: string; input: unknown; parentClosePolicy: ParentClosePolicy }
  | { kind: 'ChildWorkflowCancelRequested'; childId: string }
  /** The run ended by handing over to a fresh run of the same workflow id, whose input this is. */
  | { kind: 'WorkflowContinuedAsNew'; input: unknown }
  // ── records: what happened outside the machine ──
  | { kind: 'ActivityAttemptFailed'; activityId: string; attempt: number; failure: FailureInfo; nextAttemptAt: number }
  /** `code` is set when the server, not a user, ended the run (HISTORY_LIMIT_EXCEEDED). */
  | { kind: 'WorkflowTerminated'; reason: string; code?: 'HISTORY_LIMIT_EXCEEDED' }
  | { kind: 'ChildWorkflowStarted'; childId: string; workflowId: string; runId: string }
  /**
   * The run moved to machine version `toVersion` by a migration function, which mapped its state
   * to `value` and `context`. Replay starts from here: the machine events before it belong to the
   * old version.
   */
  | { kind: 'WorkflowMigrated'; fromVersion: string; toVersion: string; value: unknown; context: unknown }
  /** This run was made by a reset of `fromRunId` to the state after its event #`eventSeq`; the events before this one are copied from it. */
  | { kind: 'WorkflowReset'; fromRunId: string; eventSeq: number; reason: string };

export type HistoryEventKind = HistoryEventBody['kind'];

/** An XState event as stored: a plain object with a string `type`. */
export interface MachineEvent {
  type: string;
  [key: string]: unknown;
}

export const DELIVERED_KINDS: ReadonlySet<HistoryEventKind> = new Set([
  'WorkflowStarted', 'SignalReceived', 'UpdateAccepted', 'TimerFired', 'ActivityCompleted', 'ActivityFailed', 'CancelRequested',
  'ChildWorkflowCompleted', 'ChildWorkflowFailed',
]);

/** Commands are the records replay re-derives from the machine and compares. */
export const COMMAND_KINDS: ReadonlySet<HistoryEventKind> = new Set([
  'ActivityScheduled', 'ActivityCancelRequested', 'TimerStarted', 'TimerCanceled',
  'WorkflowCompleted', 'WorkflowFailed', 'WorkflowCanceled',
  'ChildWorkflowScheduled', 'ChildWorkflowCancelRequested', 'WorkflowContinuedAsNew',
]);

/** Every status an execution can report; `blocked` is reported, never stored. */
export const EXECUTION_STATUSES = ['running', 'completed', 'failed', 'canceled', 'terminated', 'continuedAsNew', 'blocked'] as const;
export type ExecutionStatus = typeof EXECUTION_STATUSES[number];

export const CLOSED_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['completed', 'failed', 'canceled', 'terminated', 'continuedAsNew']);
