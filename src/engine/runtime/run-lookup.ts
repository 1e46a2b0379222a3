import { ExecutionClosedError, ExecutionNotFoundError, InvalidArgumentError } from '../../common/errors.ts';
import { DEFAULT_NAMESPACE } from '../../common/namespaces.ts';
import type { Store } from '../../store/store.ts';
import type { ExecutionRef } from '../api.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { Execution } from './execution.ts';
import type { NamespaceRegistry } from './namespaces.ts';
import { validateId } from '../core/validate-input.ts';

/**
 * Finds the run a call is for: the workflow id's current run (the open one, else the latest),
 * or the run a ref names. Calls that need the open run follow a continue-as-new hand-over to
 * the successor rather than being refused.
 */
export class RunLookup {
  constructor(
    private readonly store: Store,
    private readonly executions: ExecutionCache,
    private readonly namespaces: NamespaceRegistry,
    /** Starts the run `runId` continued as, if the outbox has not yet (idempotent). */
    private readonly startSuccessor: (runId: string, closedAt: number) => Promise<void>,
  ) {}

  /**
   * The open run of a workflow id. A run that has just continued as new hands the call to its
   * successor, started here if the outbox has not done it yet (idempotent), so a signal sent
   * during the hand-over is not refused.
   */
  async open(ref: ExecutionRef): Promise<Execution> {
    for (let runId = await this.runIdOf(ref); ;) {
      const execution = await this.executions.load(runId);
      if (execution) return execution;
      const run = await this.executions.record(runId);
      // A run named explicitly is that run: only the workflow id's current run hands over.
      if (ref.runId !== undefined || run?.status !== 'continuedAsNew' || !run.continuedAs) return this.executions.openOrThrow(runId);
      await this.startSuccessor(runId, run.closedAt ?? 0);
      if (!(await this.store.getRun(run.continuedAs))) return this.executions.openOrThrow(runId); // another start took the id
      runId = run.continuedAs;
    }
  }

  /**
   * Runs `call` on the open run of a workflow id. The run may close by continuing as new while
   * the call waits in its mailbox (a signal sent during the hand-over, say): the call then goes
   * to the successor, as it would have had it come a moment later, instead of being refused.
   * Safe to repeat: a call refused as closed recorded nothing.
   */
  async onOpenRun<T>(ref: ExecutionRef, call: (execution: Execution) => Promise<T>): Promise<T> {
    for (;;) {
      const execution = await this.open(ref);
      try {
        return await call(execution);
      } catch (error) {
        if (error instanceof ExecutionClosedError && execution.run.status === 'continuedAsNew') continue;
        throw error;
      }
    }
  }

  async runIdOf(ref: ExecutionRef): Promise<string> {
    if (typeof ref !== 'object' || ref === null) throw new InvalidArgumentError('pass { workflowId, namespace? }');
    const namespace = validateId(ref.namespace ?? DEFAULT_NAMESPACE, 'namespace');
    this.namespaces.require(namespace);
    const workflowId = validateId(ref.workflowId, 'workflowId');
    if (ref.runId !== undefined) {
      const run = await this.executions.record(validateId(ref.runId, 'runId'));
      if (!run || run.namespace !== namespace || run.workflowId !== workflowId) throw new ExecutionNotFoundError(namespace, workflowId, ref.runId);
      return run.runId;
    }
    const live = this.executions.openByWorkflow(namespace, workflowId);
    if (live) return live.runId;
    const runId = await this.store.getCurrentRunId(namespace, workflowId);
    if (!runId) throw new ExecutionNotFoundError(namespace, workflowId);
    return runId;
  }
}
