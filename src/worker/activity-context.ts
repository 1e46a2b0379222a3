import type { ActivityTask } from '../common/worker-protocol.ts';

/**
 * What an activity function learns about the attempt it runs.
 *
 * @example
 * async function ship(input, ctx) {
 *   const resumeFrom = (ctx.info.heartbeatDetails as { page?: number } | undefined)?.page ?? 0;
 *   log.info(`shipping for ${ctx.info.workflowId}, attempt ${ctx.info.attempt}, from page ${resumeFrom}`);
 * }
 */
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

/**
 * The second argument of every activity function.
 *
 * @example
 * async function exportRows({ pages }: { pages: number }, ctx: ActivityContext) {
 *   for (let page = 0; page < pages; page++) {
 *     ctx.signal.throwIfAborted();
 *     await fetch(`https://example.com/export?page=${page}`, { signal: ctx.signal });
 *     ctx.heartbeat({ page: page + 1 });
 *   }
 * }
 */
export interface ActivityContext {
  info: ActivityInfo;
  /**
   * Aborted, with a CancelledFailure as its reason, when the server cancels the attempt (the
   * invoking state was exited, a timeout passed, the workflow was cancelled or terminated) or a
   * heartbeat learns the server no longer has it.
   */
  signal: AbortSignal;
  /**
   * Reports progress; keeps the heartbeat timeout from firing. The details of the last
   * heartbeat the server received reach the next attempt as `info.heartbeatDetails`.
   * Best-effort and cheap to call often: at most one heartbeat per task waits for the server,
   * later calls keep only the latest details, and one made while disconnected is dropped.
   */
  heartbeat(details?: unknown): void;
}

/**
 * An activity implementation: input in, output (JSON data) out; throw to fail the attempt
 * (an `ApplicationFailure` with `nonRetryable` stops the retries).
 *
 * @example
 * const chargeCard: ActivityFunction<{ amount: number }, { chargeId: string }> = async ({ amount }, ctx) =>
 *   ({ chargeId: await payments.charge(amount, { idempotencyKey: ctx.info.taskToken }) });
 */
export type ActivityFunction<In = any, Out = any> = (input: In, ctx: ActivityContext) => Promise<Out> | Out;

export function activityInfo(task: ActivityTask): ActivityInfo {
  return {
    activityId: task.activityId, activityType: task.activityType, taskQueue: task.taskQueue, namespace: task.namespace,
    workflowId: task.workflowId, workflowType: task.workflowType, runId: task.runId, attempt: task.attempt,
    heartbeatDetails: task.heartbeatDetails, scheduledAt: task.scheduledAt, taskToken: task.taskToken,
  };
}
