import type { ExecutionStatus } from '../common/history.ts';

/**
 * All the schedule service needs of the engine: start a workflow under a chosen id and
 * idempotency key, learn whether a workflow id has an open run, and wait for it to close.
 * `Engine` has exactly these methods, so the server passes its engine as it is; a test could
 * pass anything of this shape.
 */
export interface ScheduleEngine {
  /** Resolves once the start is durable; a repeated idempotency key returns the run the first start made. */
  start(type: string, options: { namespace: string; workflowId: string; input?: unknown; idempotencyKey: string }): Promise<{ runId: string }>;
  /** The current run of a workflow id; rejects with EXECUTION_NOT_FOUND when it has none. */
  describe(ref: { namespace: string; workflowId: string }): Promise<{ runId: string; status: ExecutionStatus; startedAt: number }>;
  /** Resolves when the current run of the workflow id closes (however it closes). */
  result(ref: { namespace: string; workflowId: string }): Promise<unknown>;
  /** Throws WORKFLOW_TYPE_NOT_FOUND for a type that is not registered. */
  readonly registry: { latest(type: string): unknown };
}

/**
 * The workflow id of the action a schedule takes at `nominalTime`: `<prefix>-<ISO 8601 time>`.
 * Deterministic, so an action retried after a crash finds the workflow it already started.
 *
 * @example
 * actionWorkflowId('nightly', Date.UTC(2026, 0, 2, 2)) // 'nightly-2026-01-02T02:00:00.000Z'
 */
export function actionWorkflowId(prefix: string, nominalTime: number): string {
  return `${prefix}-${new Date(nominalTime).toISOString()}`;
}

/** The idempotency key of that start, built the same way: a retried start returns the same run. */
export function actionIdempotencyKey(scheduleId: string, nominalTime: number): string {
  return `schedule/${scheduleId}/${new Date(nominalTime).toISOString()}`;
}
