import type { ExecutionDescription, ExecutionResult } from '../../common/execution-types.ts';
import type { RunRecord } from '../../common/run-model.ts';

// Declared with the other wire-visible shapes in common/execution-types.ts; still importable from here.
export type { ExecutionDescription, ExecutionResult };

export function describeRun(run: RunRecord): ExecutionDescription {
  return {
    namespace: run.namespace, workflowId: run.workflowId, runId: run.runId, type: run.type, version: run.version,
    status: run.status, startedAt: run.startedAt, closedAt: run.closedAt, finalState: run.finalState, output: run.output, failure: run.failure,
    blockedReason: run.blockedReason, historyLength: run.lastSeq, historyBytes: run.historyBytes ?? 0, searchAttributes: run.searchAttributes ?? {},
    pendingActivities: Object.values(run.activities).map((a) => ({
      activityId: a.activityId, activityType: a.activityType, attempt: a.attempt, lastFailure: a.lastFailure,
    })),
    pendingTimers: Object.values(run.timers).map((t) => ({ timerId: t.timerId, dueAt: t.dueAt })),
    pendingChildren: Object.values(run.children ?? {}).map((c) => ({
      childId: c.childId, workflowType: c.workflowType, workflowId: c.workflowId, runId: c.runId, started: c.started, parentClosePolicy: c.parentClosePolicy,
    })),
    parent: run.parent, continuedAs: run.continuedAs, continuedFrom: run.continuedFrom,
  };
}

export function resultOf(run: RunRecord): ExecutionResult {
  return { status: run.status, finalState: run.finalState, output: run.output, failure: run.failure, continuedAs: run.continuedAs };
}
