import type { HistoryEvent } from '../../common/history.ts';
import type { RunCommit, TaskEntry, TimerEntry } from '../../store/store.ts';
import type { OutboxItem, RunRecord } from '../../common/run-model.ts';
import type { DecideContext } from './decide.ts';
import { derivedRunId } from './derived-id.ts';
import type { StepBudget } from './step-budget.ts';

type OutboxWork = OutboxItem extends infer I ? I extends OutboxItem ? Omit<I, 'id' | 'dueAt'> : never : never;

/**
 * Folds newly recorded history events into a run record and says which timer and task index
 * entries change, and which outbox items (engine/runtime/outbox.ts) they call for. Pure: the record
 * passed in is not modified. The store applies a commit's deletes before its puts, so a timer
 * restarted under the same id ends up present.
 */
export function foldEvents(run: RunRecord, events: HistoryEvent[]): { run: RunRecord; timers: NonNullable<RunCommit['timers']>; tasks: NonNullable<RunCommit['tasks']> } {
  const f = new Fold(run);
  for (const e of events) f.apply(e);
  return { run: f.next, timers: f.timers, tasks: f.tasks };
}

/**
 * Folds one event into `run` itself, keeping no index changes. For code that follows a history
 * event by event with no store behind it (replay, reset, the UI's state path, through
 * ReplayTracker): the same fold as the engine's, without a copy of the record per event.
 */
export function foldInto(run: RunRecord, e: HistoryEvent): void {
  new Fold(run, true).apply(e);
}

/**
 * What `decide` is told of a run before event #`seq`: its outstanding activities, timers and
 * children, and its history's size. The engine and every replay of a history build it here, from
 * the same fold, so that a replay sees exactly what the engine saw.
 */
export function decideContext(run: RunRecord, seq: number, at: number, budget?: StepBudget): DecideContext {
  const ctx: DecideContext = {
    seq, at, workflowId: run.workflowId,
    activities: Object.keys(run.activities), timers: Object.keys(run.timers), children: Object.keys(run.children ?? {}),
    history: { length: run.lastSeq, bytes: run.historyBytes ?? 0 },
  };
  if (budget) ctx.budget = budget;
  return ctx;
}

/** The run record without outbox items `ids` (done), and the timer index entries to delete with them. */
export function withoutOutboxItems(run: RunRecord, ids: readonly string[]): { run: RunRecord; timers: NonNullable<RunCommit['timers']> } {
  const outbox = { ...run.outbox };
  const del: TimerEntry[] = [];
  for (const id of ids) {
    const item = outbox[id];
    if (!item) continue;
    del.push({ dueAt: item.dueAt, runId: run.runId, id, kind: 'outbox' });
    delete outbox[id];
  }
  return { run: { ...run, outbox }, timers: { delete: del } };
}

class Fold {
  readonly next: RunRecord;
  readonly timers = { put: [] as TimerEntry[], delete: [] as TimerEntry[] };
  readonly tasks = { put: [] as TaskEntry[], delete: [] as TaskEntry[] };

  constructor(run: RunRecord, inPlace = false) {
    if (inPlace) {
      run.children ??= {};
      run.outbox ??= {};
      this.next = run;
    } else {
      this.next = { ...run, activities: { ...run.activities }, timers: { ...run.timers }, children: { ...run.children }, outbox: { ...run.outbox } };
    }
  }

  apply(e: HistoryEvent): void {
    const next = this.next;
    next.lastSeq = e.seq;
    next.historyBytes = (next.historyBytes ?? 0) + eventBytes(e);
    switch (e.kind) {
      case 'ActivityScheduled':
        next.activities[e.activityId] = {
          activityId: e.activityId, activityType: e.activityType, input: e.input, local: e.local,
          taskQueue: e.local ? '' : (e.options.taskQueue ?? 'default'), options: e.options,
          attempt: 1, scheduledAt: e.at, attemptReadyAt: e.at,
        };
        this.tasks.put.push(this.task(e.activityId, 1));
        break;
      case 'ActivityAttemptFailed': {
        const pending = next.activities[e.activityId];
        if (!pending) break;
        next.activities[e.activityId] = { ...pending, attempt: e.attempt + 1, attemptReadyAt: e.nextAttemptAt, lastFailure: e.failure };
        this.tasks.put.push(this.task(e.activityId, e.attempt + 1));
        break;
      }
      case 'ActivityCompleted':
      case 'ActivityFailed':
      case 'ActivityCancelRequested':
        this.dropActivity(e.activityId);
        break;
      case 'TimerStarted':
        next.timers[e.timerId] = { timerId: e.timerId, dueAt: e.dueAt, event: e.event };
        this.timers.put.push({ dueAt: e.dueAt, runId: next.runId, id: e.timerId, kind: 'timer' });
        break;
      case 'TimerFired':
      case 'TimerCanceled':
        this.dropTimer(e.timerId);
        break;
      case 'ChildWorkflowScheduled':
        next.children![e.childId] = {
          childId: e.childId, workflowType: e.workflowType, workflowId: e.workflowId, input: e.input, parentClosePolicy: e.parentClosePolicy,
          runId: derivedRunId(next.runId, e.childId, e.seq), started: false,
        };
        this.addOutbox(`startChild:${e.childId}`, e.at, { kind: 'startChild', childId: e.childId });
        break;
      case 'WorkflowMigrated':
        next.version = e.toVersion;
        break;
      case 'ChildWorkflowStarted': {
        const child = next.children![e.childId];
        if (child) next.children![e.childId] = { ...child, started: true };
        this.dropOutbox(`startChild:${e.childId}`);
        break;
      }
      case 'ChildWorkflowCompleted':
      case 'ChildWorkflowFailed':
        delete next.children![e.childId];
        this.dropOutbox(`startChild:${e.childId}`);
        break;
      case 'ChildWorkflowCancelRequested':
        this.closeChild(e.childId, e.at, 'cancel', 'the parent left the state that invoked it');
        break;
      case 'WorkflowCompleted':
        this.close(e, { status: 'completed', output: e.output });
        break;
      case 'WorkflowFailed':
        this.close(e, { status: 'failed', failure: e.failure });
        break;
      case 'WorkflowCanceled':
        this.close(e, { status: 'canceled', failure: { code: 'CANCELLED_FAILURE', message: e.reason } });
        break;
      case 'WorkflowContinuedAsNew': {
        const runId = derivedRunId(next.runId, 'continuedAsNew');
        this.close(e, { status: 'continuedAsNew', continuedAs: runId });
        this.addOutbox('continueAsNew', e.at, { kind: 'continueAsNew', runId, input: e.input });
        break;
      }
      case 'WorkflowTerminated':
        for (const id of Object.keys(next.activities)) this.dropActivity(id);
        for (const id of Object.keys(next.timers)) this.dropTimer(id);
        this.close(e, { status: 'terminated', failure: { code: e.code ?? 'TERMINATED_FAILURE', message: `terminated: ${e.reason}` } });
        break;
      default:
        break;
    }
  }

  /**
   * The run closes: its open children get their parent close policy, and the parent of a child
   * run hears of it (a run that continued as new leaves that to the last run of the chain).
   */
  private close(e: HistoryEvent, fields: Partial<RunRecord>): void {
    Object.assign(this.next, { closedAt: e.at, ...fields });
    for (const child of Object.values(this.next.children!)) {
      if (child.parentClosePolicy === 'abandon') {
        delete this.next.children![child.childId];
        this.dropOutbox(`startChild:${child.childId}`);
      } else {
        this.closeChild(child.childId, e.at, child.parentClosePolicy === 'terminate' ? 'terminate' : 'cancel', `its parent ${this.next.workflowId} closed (${this.next.status})`);
      }
    }
    if (this.next.parent && this.next.status !== 'continuedAsNew') this.addOutbox('notifyParent', e.at, { kind: 'notifyParent' });
  }

  /**
   * Stops waiting for a child and asks for it to be cancelled or terminated. A child whose start
   * is not recorded yet will not be started now, but its run may exist all the same: made just
   * before a crash (or a failed commit) cut off the commit of ChildWorkflowStarted. So the request
   * is sent whether or not the start was recorded; it finds no run when none was made.
   */
  private closeChild(childId: string, at: number, action: 'cancel' | 'terminate', reason: string): void {
    const child = this.next.children![childId];
    if (!child) return;
    delete this.next.children![childId];
    this.dropOutbox(`startChild:${childId}`);
    this.addOutbox(`closeChild:${childId}:${this.next.lastSeq}`, at, { kind: 'closeChild', childId, workflowId: child.workflowId, runId: child.runId, action, reason });
  }

  private addOutbox(id: string, dueAt: number, work: OutboxWork): void {
    this.next.outbox![id] = { id, dueAt, ...work } as OutboxItem;
    this.timers.put.push({ dueAt, runId: this.next.runId, id, kind: 'outbox' });
  }

  private dropOutbox(id: string): void {
    const item = this.next.outbox![id];
    if (!item) return;
    this.timers.put = this.timers.put.filter((t) => !(t.kind === 'outbox' && t.id === id));
    this.timers.delete.push({ dueAt: item.dueAt, runId: this.next.runId, id, kind: 'outbox' });
    delete this.next.outbox![id];
  }

  private task(activityId: string, attempt: number): TaskEntry {
    const next = this.next;
    return { namespace: next.namespace, taskQueue: next.activities[activityId]?.taskQueue ?? '', runId: next.runId, activityId, attempt };
  }

  private dropActivity(activityId: string): void {
    const pending = this.next.activities[activityId];
    if (!pending) return;
    // Net out a put of this same fold: the store applies deletes before puts.
    this.tasks.put = this.tasks.put.filter((t) => t.activityId !== activityId);
    this.tasks.delete.push(this.task(activityId, pending.attempt));
    delete this.next.activities[activityId];
  }

  private dropTimer(timerId: string): void {
    const pending = this.next.timers[timerId];
    if (!pending) return;
    this.timers.put = this.timers.put.filter((t) => !(t.kind === 'timer' && t.id === timerId));
    this.timers.delete.push({ dueAt: pending.dueAt, runId: this.next.runId, id: timerId, kind: 'timer' });
    delete this.next.timers[timerId];
  }
}

/** An event's share of the history size: its length as JSON. Replay counts the same way. */
export function eventBytes(event: HistoryEvent): number {
  return JSON.stringify(event).length;
}
