import type { HistoryEvent } from '../common/history.ts';
import type { RunCommit, RunRecord, TaskEntry, TimerEntry } from '../store/store.ts';

/**
 * Folds newly recorded history events into a run record and says which timer and task index
 * entries change. Pure: the record passed in is not modified. The store applies a commit's
 * deletes before its puts, so a timer restarted under the same id ends up present.
 */
export function foldEvents(run: RunRecord, events: HistoryEvent[]): { run: RunRecord; timers: NonNullable<RunCommit['timers']>; tasks: NonNullable<RunCommit['tasks']> } {
  const next: RunRecord = { ...run, activities: { ...run.activities }, timers: { ...run.timers } };
  const timers = { put: [] as TimerEntry[], delete: [] as TimerEntry[] };
  const tasks = { put: [] as TaskEntry[], delete: [] as TaskEntry[] };
  const task = (activityId: string, attempt: number): TaskEntry => ({
    namespace: run.namespace, taskQueue: next.activities[activityId]?.taskQueue ?? '', runId: run.runId, activityId, attempt,
  });
  const dropActivity = (activityId: string) => {
    const pending = next.activities[activityId];
    if (!pending) return;
    // Net out a put of this same fold: the store applies deletes before puts.
    tasks.put = tasks.put.filter((t) => t.activityId !== activityId);
    tasks.delete.push(task(activityId, pending.attempt));
    delete next.activities[activityId];
  };
  const dropTimer = (timerId: string) => {
    const pending = next.timers[timerId];
    if (!pending) return;
    timers.put = timers.put.filter((t) => t.id !== timerId);
    timers.delete.push({ dueAt: pending.dueAt, runId: run.runId, id: timerId, kind: 'timer' });
    delete next.timers[timerId];
  };

  for (const e of events) {
    next.lastSeq = e.seq;
    switch (e.kind) {
      case 'ActivityScheduled':
        next.activities[e.activityId] = {
          activityId: e.activityId, activityType: e.activityType, input: e.input, local: e.local,
          taskQueue: e.local ? '' : (e.options.taskQueue ?? 'default'), options: e.options,
          attempt: 1, scheduledAt: e.at, attemptReadyAt: e.at,
        };
        tasks.put.push(task(e.activityId, 1));
        break;
      case 'ActivityAttemptFailed': {
        const pending = next.activities[e.activityId];
        if (!pending) break;
        next.activities[e.activityId] = { ...pending, attempt: e.attempt + 1, attemptReadyAt: e.nextAttemptAt, lastFailure: e.failure };
        tasks.put.push(task(e.activityId, e.attempt + 1));
        break;
      }
      case 'ActivityCompleted':
      case 'ActivityFailed':
      case 'ActivityCancelRequested':
        dropActivity(e.activityId);
        break;
      case 'TimerStarted':
        next.timers[e.timerId] = { timerId: e.timerId, dueAt: e.dueAt, event: e.event };
        timers.put.push({ dueAt: e.dueAt, runId: run.runId, id: e.timerId, kind: 'timer' });
        break;
      case 'TimerFired':
      case 'TimerCanceled':
        dropTimer(e.timerId);
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
        for (const id of Object.keys(next.activities)) dropActivity(id);
        for (const id of Object.keys(next.timers)) dropTimer(id);
        Object.assign(next, { status: 'terminated', closedAt: e.at, failure: { code: 'TERMINATED_FAILURE', message: `terminated: ${e.reason}` } });
        break;
      default:
        break;
    }
  }
  return { run: next, timers, tasks };
}
