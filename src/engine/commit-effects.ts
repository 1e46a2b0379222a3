import type { HistoryEvent } from '../common/history.ts';
import type { ActivityDispatcher } from './activity-dispatcher.ts';
import type { Decision } from './decide.ts';
import type { EngineObserver } from './engine.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { Execution } from './execution.ts';
import type { TaskRouter } from './task-router.ts';
import type { TimerService } from './timer-service.ts';
import { crossedHistoryWarning, type HistoryLimits } from './history-limits.ts';

export interface CommitEffectDeps {
  dispatcher: ActivityDispatcher;
  router: TaskRouter;
  timers: TimerService;
  executions: ExecutionCache;
  observer?: EngineObserver;
  historyLimits: HistoryLimits;
}

/**
 * The "act" of record → decide → commit → act: what the engine does once a step is durable.
 *
 * Invariant: called only after the commit that recorded `events` resolved. A crash before this
 * runs loses nothing: recovery re-dispatches tasks and re-arms timers from the store.
 */
export function actOnCommit(execution: Execution, events: readonly HistoryEvent[], sideEffects: Decision['sideEffects'], deps: CommitEffectDeps): void {
  // Inline actions run now that the step is durable: at least once (again if we crash before
  // they finish and the step is retried), never during recovery or replay.
  for (const action of sideEffects) {
    try {
      action.exec?.(action.info, action.params);
    } catch {
      // A failing side effect cannot undo a committed step; activities are the place for work that must succeed.
    }
  }
  const scheduled: string[] = [];
  for (const event of events) {
    switch (event.kind) {
      case 'ActivityScheduled':
      case 'ActivityAttemptFailed':
        scheduled.push(event.activityId);
        break;
      case 'ActivityCancelRequested':
        deps.dispatcher.cancel(execution.runId, event.activityId, 'cancelled by the workflow');
        break;
      case 'ActivityCompleted':
      case 'ActivityFailed':
        deps.dispatcher.cancel(execution.runId, event.activityId, 'settled');
        break;
      case 'TimerStarted':
        deps.timers.notify(event.dueAt);
        break;
      // Each of these put an outbox item (engine/outbox.ts), due now, in the timer index.
      case 'ChildWorkflowScheduled':
      case 'ChildWorkflowCancelRequested':
        deps.timers.notify(event.at);
        break;
      case 'WorkflowTerminated':
        // The run's record no longer lists its activities (the commit dropped them): cancel by run.
        deps.dispatcher.cancelRun(execution.runId, 'terminated');
        break;
      default:
        break;
    }
  }
  if (scheduled.length) deps.router.dispatchPending(execution, scheduled);
  deps.observer?.committed(events, execution.run);
  if (events.length > 0 && crossedHistoryWarning(events[0]!.seq - 1, execution.run, deps.historyLimits)) deps.observer?.historyWarning?.(execution.run);
  if (execution.closed) {
    // Closing may ask for outbox work: close policies for children, the parent told, a new run.
    if (Object.keys(execution.run.outbox ?? {}).length > 0) deps.timers.notify(events.at(-1)!.at);
    deps.executions.closed(execution);
  }
}
