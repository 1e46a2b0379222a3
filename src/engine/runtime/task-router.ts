import { TaskTokenStaleError } from '../../common/errors.ts';
import type { ActivityTask } from '../../common/worker-protocol.ts';
import { toMs } from '../../common/duration.ts';
import type { ActivityDispatcher, DispatchHost } from './activity-dispatcher.ts';
import type { Clock } from '../../common/clock.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { Execution } from './execution.ts';
import { LOCAL_TASK_QUEUE, type LocalActivityRunner } from './local-activities.ts';
import { decodeTaskToken, encodeTaskToken } from '../core/task-token.ts';

/**
 * Between executions and the dispatcher: turns an execution's pending activities into tasks,
 * and routes what workers report back to the execution that owns the task.
 */
export class TaskRouter {
  private dispatcher?: ActivityDispatcher;
  private local?: LocalActivityRunner;

  constructor(private readonly executions: () => ExecutionCache) {}

  attach(dispatcher: ActivityDispatcher, local: LocalActivityRunner): void {
    this.dispatcher = dispatcher;
    this.local = local;
  }

  dispatchHost(clock: Clock): DispatchHost {
    const owner = async (runId: string, token: string): Promise<Execution> => {
      const execution = await this.executions().load(runId);
      if (!execution) throw new TaskTokenStaleError(token);
      return execution;
    };
    return {
      clock,
      parseToken: (token) => ({ ...decodeTaskToken(token), taskToken: token }),
      completed: async (t, output) => (await owner(t.runId, t.taskToken)).activityCompleted(t.activityId, t.attempt, output, t.taskToken),
      failed: async (t, failure) => (await owner(t.runId, t.taskToken)).activityAttemptFailed(t.activityId, t.attempt, failure, t.taskToken),
      heartbeat: async (t, details) => ({
        cancelRequested: (await owner(t.runId, t.taskToken)).heartbeat(t.activityId, t.attempt, details, t.taskToken),
      }),
    };
  }

  /** Queues the named pending activities of an execution (after the commit that scheduled them). */
  dispatchPending(execution: Execution, activityIds: string[]): void {
    const run = execution.run;
    for (const activityId of activityIds) {
      const pending = run.activities[activityId];
      if (!pending) continue;
      if (pending.local) this.local!.ensure(run.namespace);
      const o = pending.options;
      const task: ActivityTask = {
        taskToken: encodeTaskToken({ namespace: run.namespace, runId: run.runId, activityId, attempt: pending.attempt }),
        namespace: run.namespace,
        taskQueue: pending.local ? LOCAL_TASK_QUEUE : pending.taskQueue,
        activityType: pending.activityType,
        activityId,
        workflowId: run.workflowId,
        workflowType: run.type,
        runId: run.runId,
        attempt: pending.attempt,
        input: pending.input,
        heartbeatDetails: pending.heartbeatDetails,
        scheduledAt: pending.scheduledAt,
        startToCloseTimeoutMs: o.startToCloseTimeout === undefined ? undefined : toMs(o.startToCloseTimeout),
        heartbeatTimeoutMs: o.heartbeatTimeout === undefined ? undefined : toMs(o.heartbeatTimeout),
      };
      this.dispatcher!.enqueue(task, pending.attemptReadyAt, {
        scheduleToStartTimeoutMs: o.scheduleToStartTimeout === undefined ? undefined : toMs(o.scheduleToStartTimeout),
        scheduleToCloseDeadline: o.scheduleToCloseTimeout === undefined ? undefined : pending.scheduledAt + toMs(o.scheduleToCloseTimeout),
      });
    }
  }
}
