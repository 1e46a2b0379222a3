import type { HistoryEvent } from '../../../../common/history.ts';
import type { FailureInfo } from '../../../../common/failures.ts';

import { formatClock, formatDuration, shortVersion } from './formatters.ts';

export type { HistoryEvent, FailureInfo };

/** Which family an event is in, for its colour on the timeline. */
export type EventFamily = 'input' | 'command' | 'record' | 'end';

export function eventFamily(kind: HistoryEvent['kind']): EventFamily {
  switch (kind) {
    case 'WorkflowStarted': case 'SignalReceived': case 'UpdateAccepted': case 'TimerFired':
    case 'ActivityCompleted': case 'ActivityFailed': case 'CancelRequested': case 'ChildWorkflowCompleted': case 'ChildWorkflowFailed':
      return 'input';
    case 'WorkflowCompleted': case 'WorkflowFailed': case 'WorkflowCanceled': case 'WorkflowTerminated': case 'WorkflowContinuedAsNew':
      return 'end';
    case 'ActivityAttemptFailed':
    case 'WorkflowReset':
    case 'ChildWorkflowStarted':
    case 'WorkflowMigrated':
      return 'record';
    default:
      return 'command';
  }
}

/** One line that says what the event was. */
export function summarizeEvent(e: HistoryEvent): string {
  switch (e.kind) {
    case 'WorkflowStarted': return `${e.type}@${shortVersion(e.version)} started as "${e.workflowId}"`;
    case 'SignalReceived': return `signal ${e.event.type}${payloadHint(e.event)}`;
    case 'UpdateAccepted': return `update ${e.event.type}${payloadHint(e.event)}`;
    case 'TimerFired': return `timer ${timerName(e.timerId)} fired`;
    case 'ActivityCompleted': return `${e.activityId} completed (attempt ${e.attempt})`;
    case 'ActivityFailed': return `${e.activityId} failed (attempt ${e.attempt}): ${e.failure.message}`;
    case 'CancelRequested': return `cancel requested: ${e.reason}`;
    case 'ActivityScheduled': return `schedule ${e.activityType} as ${e.activityId}${e.local ? ' (local)' : ''}`;
    case 'ActivityCancelRequested': return `cancel ${e.activityId}`;
    case 'TimerStarted': return `timer ${timerName(e.timerId)} for ${formatDuration(e.delayMs)}`;
    case 'TimerCanceled': return `timer ${timerName(e.timerId)} canceled`;
    case 'WorkflowCompleted': return 'completed';
    case 'WorkflowFailed': return `failed: ${e.failure.message}`;
    case 'WorkflowCanceled': return `canceled: ${e.reason}`;
    case 'ActivityAttemptFailed': return `${e.activityId} attempt ${e.attempt} failed: ${e.failure.message} — retry at ${formatClock(e.nextAttemptAt)}`;
    case 'WorkflowTerminated': return `terminated${e.code ? ` by the server (${e.code})` : ''}: ${e.reason}`;
    case 'WorkflowReset': return `reset from run ${e.fromRunId.slice(0, 8)} after event #${e.eventSeq}: ${e.reason}`;
    case 'ChildWorkflowScheduled':
      return `start child ${e.workflowType} "${e.workflowId}"${e.childId === e.workflowType ? '' : ` as ${e.childId}`}${e.parentClosePolicy === 'terminate' ? '' : ` (on parent close: ${e.parentClosePolicy})`}`;
    case 'ChildWorkflowStarted': return `child ${e.childId} started: "${e.workflowId}" run ${e.runId.slice(0, 8)}`;
    case 'ChildWorkflowCompleted': return `child ${e.childId} ("${e.workflowId}") completed${payloadHint(e.output)}`;
    case 'ChildWorkflowFailed': return `child ${e.childId} ("${e.workflowId}") ${e.runId ? 'failed' : 'could not start'}: ${e.failure.message}`;
    case 'ChildWorkflowCancelRequested': return `cancel child ${e.childId}`;
    case 'WorkflowContinuedAsNew': return `continued as new${payloadHint(e.input, 'with ')}`;
    case 'WorkflowMigrated': return `migrated from version ${shortVersion(e.fromVersion)} to ${shortVersion(e.toVersion)}, in ${JSON.stringify(e.value)}`;
  }
}

/**
 * Timer ids of `after` look like `xstate.after.approvalTimeout.approval.waiting`: "after
 * approvalTimeout (in waiting)"; a delay given as a number reads as the diagram writes it
 * (`xstate.after.86400000.…` → "after 1d").
 */
export function timerName(id: string): string {
  const m = /^xstate\.after\.([^.]+)\.(.+)$/.exec(id);
  if (!m) return id;
  const state = m[2]!.split('.').slice(1).join('.');
  return `after ${/^\d+$/.test(m[1]!) ? formatDuration(Number(m[1])) : m[1]}${state ? ` (in ${state})` : ''}`;
}

/** A short JSON hint of a payload (an event without its `type`, an output, an input); '' when there is nothing to show. */
function payloadHint(value: unknown, prefix = ''): string {
  let shown = value;
  if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string') {
    const { type: _type, ...rest } = value as Record<string, unknown>;
    shown = rest;
  }
  const text = shown === undefined ? '' : JSON.stringify(shown) ?? '';
  if (text === '' || text === '{}' || text === 'null') return '';
  return ` ${prefix}${text.length > 60 ? `${text.slice(0, 57)}…` : text}`;
}

/** The payload worth showing when an event is opened: the event without seq/at/kind. */
export function eventPayload(e: HistoryEvent): Record<string, unknown> {
  const { seq: _s, at: _a, kind: _k, ...rest } = e as HistoryEvent & Record<string, unknown>;
  return rest;
}

/** Where a child workflow is, as the parent's history (and its pending children) tell it. */
export type ChildStatus = 'scheduled' | 'running' | 'completed' | 'failed';

export interface ChildWorkflowView {
  childId: string;
  workflowType: string;
  workflowId: string;
  runId?: string;
  parentClosePolicy: string;
  status: ChildStatus;
  cancelRequested: boolean;
  failure?: FailureInfo;
}

/**
 * Every child workflow a run started, in the order it scheduled them, from its history. An
 * invoke id re-entered (the state left and entered again) is a new child: the latest one with
 * that id is the one later events speak of.
 */
export function childWorkflows(history: readonly HistoryEvent[]): ChildWorkflowView[] {
  const children: ChildWorkflowView[] = [];
  const latest = new Map<string, ChildWorkflowView>();
  for (const e of history) {
    if (e.kind === 'ChildWorkflowScheduled') {
      const child: ChildWorkflowView = {
        childId: e.childId, workflowType: e.workflowType, workflowId: e.workflowId, parentClosePolicy: e.parentClosePolicy, status: 'scheduled', cancelRequested: false,
      };
      children.push(child);
      latest.set(e.childId, child);
      continue;
    }
    const child = 'childId' in e ? latest.get(e.childId) : undefined;
    if (!child) continue;
    if (e.kind === 'ChildWorkflowStarted') Object.assign(child, { status: 'running', runId: e.runId });
    else if (e.kind === 'ChildWorkflowCompleted') Object.assign(child, { status: 'completed', runId: e.runId });
    else if (e.kind === 'ChildWorkflowFailed') Object.assign(child, { status: 'failed', runId: e.runId ?? child.runId, failure: e.failure });
    else if (e.kind === 'ChildWorkflowCancelRequested') child.cancelRequested = true;
  }
  return children;
}

/** A failure and its causes, outermost first. */
export function causeChain(failure: FailureInfo | undefined): FailureInfo[] {
  const chain: FailureInfo[] = [];
  for (let f = failure; f !== undefined && chain.length < 20; f = f.cause) chain.push(f);
  return chain;
}

/** The workflow's input, from its first event. */
export function inputOf(history: readonly HistoryEvent[]): unknown {
  const first = history[0];
  return first?.kind === 'WorkflowStarted' ? first.input : undefined;
}

/** When each pending activity's next attempt is due (from its last failed attempt), by activity id. */
export function nextAttempts(history: readonly HistoryEvent[]): Map<string, { attempt: number; at: number; failure: FailureInfo }> {
  const next = new Map<string, { attempt: number; at: number; failure: FailureInfo }>();
  for (const e of history) {
    if (e.kind === 'ActivityAttemptFailed') next.set(e.activityId, { attempt: e.attempt + 1, at: e.nextAttemptAt, failure: e.failure });
    else if (e.kind === 'ActivityCompleted' || e.kind === 'ActivityFailed' || e.kind === 'ActivityCancelRequested') next.delete(e.activityId);
  }
  return next;
}
