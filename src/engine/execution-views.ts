import type { FailureInfo } from '../common/failures.ts';
import type { ExecutionStatus } from '../common/history.ts';
import type { RunRecord } from '../store/store.ts';

/** What `describe()` tells about an execution. */
export interface ExecutionDescription {
  namespace: string;
  workflowId: string;
  runId: string;
  type: string;
  version: string;
  status: ExecutionStatus;
  startedAt: number;
  closedAt?: number;
  output?: unknown;
  failure?: FailureInfo;
  blockedReason?: string;
  historyLength: number;
  pendingActivities: { activityId: string; activityType: string; attempt: number; lastFailure?: FailureInfo }[];
  pendingTimers: { timerId: string; dueAt: number }[];
}

/** How an execution ended: output when completed, failure otherwise. */
export interface ExecutionResult {
  status: ExecutionStatus;
  output?: unknown;
  failure?: FailureInfo;
}

export function describeRun(run: RunRecord): ExecutionDescription {
  return {
    namespace: run.namespace, workflowId: run.workflowId, runId: run.runId, type: run.type, version: run.version,
    status: run.status, startedAt: run.startedAt, closedAt: run.closedAt, output: run.output, failure: run.failure,
    blockedReason: run.blockedReason, historyLength: run.lastSeq,
    pendingActivities: Object.values(run.activities).map((a) => ({
      activityId: a.activityId, activityType: a.activityType, attempt: a.attempt, lastFailure: a.lastFailure,
    })),
    pendingTimers: Object.values(run.timers).map((t) => ({ timerId: t.timerId, dueAt: t.dueAt })),
  };
}

export function resultOf(run: RunRecord): ExecutionResult {
  return { status: run.status, output: run.output, failure: run.failure };
}
