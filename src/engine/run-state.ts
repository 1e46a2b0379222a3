import type { HistoryEvent } from '../common/history.ts';
import type { RunCommit, RunRecord, TaskEntry, TimerEntry } from '../store/store.ts';

/**
 * Folds newly recorded history events into a run record and says which timer and task index
 * entries change. Pure: the record passed in is not modified. The store applies a commit's
 * deletes before its puts, so a timer restarted under the same id ends up present.
 */
export function foldEvents(run: RunRecord, events: HistoryEvent[]): { run: RunRecord; timers: NonNullable<RunCommit['timers']>; tasks: NonNullable<RunCommit['tasks']> } {
  const f = new Fold(run);
  for (const e of events) f.apply(e);
  return { run: f.next, timers: f.timers, tasks: f.tasks };
}

class Fold {
  readonly next: RunRecord;
  readonly timers = { put: [] as TimerEntry[], delete: [] as TimerEntry[] };
  readonly tasks = { put: [] as TaskEntry[], delete: [] as TaskEntry[] };

  constructor(run: RunRecord) {
    this.next = { ...run, activities: { ...run.activities }, timers: { ...run.timers } };
  }

  apply(e: HistoryEvent): void {
    const next = this.next;
    next.lastSeq = e.seq;
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
      case 'WorkflowCompleted':
        Object.assign(next, { status: 'completed', closedAt: e.at, output: e.output });
        break;
      case 'WorkflowFailed':
        Object.assign(next, { status: 'failed', closedAt: e.at, failure: e.failure });
        break;
      case 'WorkflowCanceled':
        Object.assign(next, { status: 'canceled', closedAt: e.at, failure: { code: 'CANCELLED_FAILURE', message: e.reason } });
        break;
      case 'WorkflowTerminated':
        for (const id of Object.keys(next.activities)) this.dropActivity(id);
        for (const id of Object.keys(next.timers)) this.dropTimer(id);
        Object.assign(next, { status: 'terminated', closedAt: e.at, failure: { code: 'TERMINATED_FAILURE', message: `terminated: ${e.reason}` } });
        break;
      default:
        break;
    }
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
    this.timers.put = this.timers.put.filter((t) => t.id !== timerId);
    this.timers.delete.push({ dueAt: pending.dueAt, runId: this.next.runId, id: timerId, kind: 'timer' });
    delete this.next.timers[timerId];
  }
}
