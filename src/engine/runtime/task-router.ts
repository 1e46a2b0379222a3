import { TaskTokenStaleError } from '../../common/errors.ts';
import type { ActivityTask } from '../../common/worker-protocol.ts';
import { toMs } from '../../common/duration.ts';
import type { ActivityDispatcher, DispatchHost } from './activity-dispatcher.ts';
import type { Clock } from '../../common/clock.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import type { Execution } from './execution.ts';
import { LOCAL_TASK_QUEUE, type LocalActivityRunner } from './local-activities.ts';
import { decodeTaskToken, encodeTaskToken } from '../core/task-token.ts';

/** The executions of a shard this node holds, or undefined when it does not hold it. */
export type ExecutionsOfShard = (shard: number) => ExecutionCache | undefined;

/**
 * What the dispatcher calls when a worker reports on a task: the report goes to the execution
 * the token names, in the shard runtime of the shard it names. A shard this node does not hold
 * (lost, or handed over) makes the token stale here: the report is refused, and the shard's
 * owner dispatches the attempt again under its timeouts.
 */
export function completionHost(clock: Clock, executionsOf: ExecutionsOfShard): DispatchHost {
  const owner = async (t: { shard: number; runId: string; taskToken: string }): Promise<Execution> => {
    const execution = await executionsOf(t.shard)?.load(t.runId);
    if (!execution) throw new TaskTokenStaleError(t.taskToken);
    return execution;
  };
  return {
    clock,
    parseToken: (token) => ({ ...decodeTaskToken(token), taskToken: token }),
    completed: async (t, output) => (await owner(t)).activityCompleted(t.activityId, t.attempt, output, t.taskToken),
    failed: async (t, failure) => (await owner(t)).activityAttemptFailed(t.activityId, t.attempt, failure, t.taskToken),
    heartbeat: async (t, details) => ({
      cancelRequested: (await owner(t)).heartbeat(t.activityId, t.attempt, details, t.taskToken),
    }),
  };
}

/** The definition a local activity's task runs under (undefined: its run is not here). */
export async function definitionOfTask(executionsOf: ExecutionsOfShard, task: { taskToken: string }): Promise<WorkflowDefinition | undefined> {
  const ref = decodeTaskToken(task.taskToken);
  return (await executionsOf(ref.shard)?.load(ref.runId))?.definition;
}

/** Turns an execution's pending activities into tasks, for workers or for the local runner. */
export class TaskRouter {
  constructor(private readonly dispatcher: ActivityDispatcher, private readonly local: LocalActivityRunner) {}

  dispatchPending(shard: number, execution: Execution, activityIds: string[]): void {
    const run = execution.run;
    for (const activityId of activityIds) {
      const pending = run.activities[activityId];
      if (!pending) continue;
      if (pending.local) this.local.ensure(run.namespace);
      const o = pending.options;
      const task: ActivityTask = {
        taskToken: encodeTaskToken({ namespace: run.namespace, shard, runId: run.runId, activityId, attempt: pending.attempt }),
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
      this.dispatcher.enqueue(task, pending.attemptReadyAt, {
        scheduleToStartTimeoutMs: o.scheduleToStartTimeout === undefined ? undefined : toMs(o.scheduleToStartTimeout),
        scheduleToCloseDeadline: o.scheduleToCloseTimeout === undefined ? undefined : pending.scheduledAt + toMs(o.scheduleToCloseTimeout),
      });
    }
  }
}
