import { ExecutionAlreadyStartedError, WorkflowIdReuseRejectedError } from '../../common/errors.ts';
import { CLOSED_STATUSES, type ExecutionStatus } from '../../common/history.ts';
import type { ConflictPolicy, IdReusePolicy } from '../../common/start-policies.ts';

/** Closed statuses after which `allowIfFailed` lets the workflow id be used again. */
const UNSUCCESSFUL: ReadonlySet<ExecutionStatus> = new Set(['failed', 'canceled', 'terminated']);

/** What a start does about the latest run of its workflow id. */
export type StartAction =
  | { do: 'start' }
  | { do: 'useExisting'; runId: string }
  | { do: 'terminateThenStart'; runId: string };

/**
 * Decides, from the latest run of the workflow id (none, open or closed) and the start's
 * policies, whether to start, return the open run, or terminate it first; refusals throw the
 * error the caller sees. Pure: the engine reads the run and acts on the answer.
 *
 * @example
 * startAction({ runId: 'r1', status: 'completed' }, { namespace: 'default', workflowId: 'a-1', idReusePolicy: 'allowIfFailed' }); // throws WORKFLOW_ID_REUSE_REJECTED
 */
export function startAction(
  latest: { runId: string; status: ExecutionStatus } | undefined,
  options: { namespace: string; workflowId: string; idReusePolicy?: IdReusePolicy; conflictPolicy?: ConflictPolicy },
): StartAction {
  if (!latest) return { do: 'start' };
  const { namespace, workflowId } = options;
  if (!CLOSED_STATUSES.has(latest.status)) {
    // Blocked counts as open: its run is not over, only waiting for its machine version.
    switch (options.conflictPolicy ?? 'fail') {
      case 'useExisting': return { do: 'useExisting', runId: latest.runId };
      case 'terminateExisting': return { do: 'terminateThenStart', runId: latest.runId };
      default: throw new ExecutionAlreadyStartedError(namespace, workflowId, latest.runId);
    }
  }
  const policy = options.idReusePolicy ?? 'allow';
  if (policy === 'allow' || (policy === 'allowIfFailed' && UNSUCCESSFUL.has(latest.status))) return { do: 'start' };
  throw new WorkflowIdReuseRejectedError(namespace, workflowId, latest.runId, latest.status, policy);
}
