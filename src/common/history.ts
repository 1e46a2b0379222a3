import type { FailureInfo } from './failures.ts';
import type { ActivityOptions } from './activity-options.ts';

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
  // ── records: commands decided by the machine ──
  | { kind: 'ActivityScheduled'; activityId: string; activityType: string; input: unknown; local: boolean; options: ActivityOptions }
  | { kind: 'ActivityCancelRequested'; activityId: string }
  | { kind: 'TimerStarted'; timerId: string; dueAt: number; delayMs: number; event: MachineEvent }
  | { kind: 'TimerCanceled'; timerId: string }
  | { kind: 'WorkflowCompleted'; output: unknown }
  | { kind: 'WorkflowFailed'; failure: FailureInfo }
  | { kind: 'WorkflowCanceled'; reason: string }
  // ── records: what happened outside the machine ──
  | { kind: 'ActivityAttemptFailed'; activityId: string; attempt: number; failure: FailureInfo; nextAttemptAt: number }
  | { kind: 'WorkflowTerminated'; reason: string }
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
]);

/** Commands are the records replay re-derives from the machine and compares. */
export const COMMAND_KINDS: ReadonlySet<HistoryEventKind> = new Set([
  'ActivityScheduled', 'ActivityCancelRequested', 'TimerStarted', 'TimerCanceled',
  'WorkflowCompleted', 'WorkflowFailed', 'WorkflowCanceled',
]);

export type ExecutionStatus = 'running' | 'completed' | 'failed' | 'canceled' | 'terminated' | 'blocked';

export const CLOSED_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['completed', 'failed', 'canceled', 'terminated']);
