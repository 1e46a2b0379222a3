import type { HistoryEvent } from '../../common/history.ts';
import type { ActivityDispatcher } from './activity-dispatcher.ts';
import type { Decision } from '../core/decide.ts';
import type { EngineObserver } from '../api.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { Execution } from './execution.ts';
import type { TaskRouter } from './task-router.ts';
import type { TimerService } from './timer-service.ts';
import { crossedHistoryWarning, type HistoryLimits } from '../core/history-limits.ts';
import type { ActionLike } from '../core/machine-step.ts';

export interface CommitEffectDeps {
  /** The shard the execution is in: its tasks' tokens name it. */
  shard: number;
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
  runSideEffects(execution, sideEffects, deps.observer);
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
      // Each of these put an outbox item (engine/runtime/outbox.ts), due now, in the timer index.
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
  if (scheduled.length) deps.router.dispatchPending(deps.shard, execution, scheduled);
  deps.observer?.committed(events, execution.run);
  if (events.length > 0 && crossedHistoryWarning(events[0]!.seq - 1, execution.run, deps.historyLimits)) deps.observer?.historyWarning?.(execution.run);
  if (execution.closed) {
    // Closing may ask for outbox work: close policies for children, the parent told, a new run.
    if (Object.keys(execution.run.outbox ?? {}).length > 0) deps.timers.notify(events.at(-1)!.at);
    deps.executions.closed(execution);
  }
}

/** What the engine reports of an inline action that threw or rejected (see EngineObserver.sideEffectFailed). */
export interface SideEffectFailure {
  namespace: string;
  workflowId: string;
  runId: string;
  /** The state value the step went to, as JSON. */
  state: string;
  /** The action's name (`actions` for an anonymous inline function, as XState names it). */
  action: string;
  error: unknown;
}

/**
 * Inline actions run now that the step is durable: at least once (again if we crash before they
 * finish and the step is retried), never during recovery or replay. A failure — a throw, or the
 * rejection of the promise an `async` action returns — cannot undo a committed step, so it is
 * reported and the engine goes on. Unhandled, a rejection would end the whole process (Node's
 * default), and every run reaching that step again would end it again (issue 15, bug 1).
 */
function runSideEffects(execution: Execution, sideEffects: readonly ActionLike[], observer: EngineObserver | undefined): void {
  for (const action of sideEffects) {
    const report = (error: unknown) => reportFailure(execution, action, error, observer);
    try {
      const result = action.exec?.(action.info, action.params);
      if (isThenable(result)) result.then(undefined, report);
    } catch (error) {
      report(error);
    }
  }
}

function reportFailure(execution: Execution, action: ActionLike, error: unknown, observer: EngineObserver | undefined): void {
  const { namespace, workflowId, runId } = execution.run;
  const named = action.exec?.name;
  const failure: SideEffectFailure = {
    namespace, workflowId, runId, error,
    state: JSON.stringify(execution.snapshot?.value ?? null),
    action: action.type === 'actions' && named ? named : action.type,
  };
  try {
    if (observer?.sideEffectFailed) observer.sideEffectFailed(failure);
    else console.error(`perdure: inline action "${failure.action}" of run ${runId} (workflow "${workflowId}", namespace "${namespace}") failed in state ${failure.state}:`, error);
  } catch {
    // A failing observer must not turn a reported failure into an unhandled one.
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
