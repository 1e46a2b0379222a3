import type { ActivityTask } from '../common/worker-protocol.ts';

/** What an activity function learns about the attempt it runs. */
export interface ActivityInfo {
  activityId: string;
  activityType: string;
  taskQueue: string;
  namespace: string;
  workflowId: string;
  workflowType: string;
  runId: string;
  /** 1-based. The same attempt can run twice only when the server crashed while it ran. */
  attempt: number;
  /** Details of the last heartbeat of an earlier attempt, to resume from. */
  heartbeatDetails?: unknown;
  scheduledAt: number;
  /** (runId, activityId, attempt): use it as the idempotency key of the attempt's side effects. */
  taskToken: string;
}

export interface ActivityContext {
  info: ActivityInfo;
  /** Aborted when the server cancels the attempt (state exited, timeout, termination). */
  signal: AbortSignal;
  /** Reports progress; keeps the heartbeat timeout from firing. Details reach the next attempt. */
  heartbeat(details?: unknown): void;
}

/** An activity implementation: input in, output (JSON data) out; throw to fail the attempt. */
export type ActivityFunction<In = any, Out = any> = (input: In, ctx: ActivityContext) => Promise<Out> | Out;

export function activityInfo(task: ActivityTask): ActivityInfo {
  return {
    activityId: task.activityId, activityType: task.activityType, taskQueue: task.taskQueue, namespace: task.namespace,
    workflowId: task.workflowId, workflowType: task.workflowType, runId: task.runId, attempt: task.attempt,
    heartbeatDetails: task.heartbeatDetails, scheduledAt: task.scheduledAt, taskToken: task.taskToken,
  };
}
