import { ExecutionAlreadyStartedError, MachineStepError, WorkflowIdReuseRejectedError, WorkflowTypeNotFoundError } from '../../common/errors.ts';
import { ChildWorkflowFailure, fromFailureInfo, toFailureInfo, type FailureInfo } from '../../common/failures.ts';
import type { Store, TimerEntry } from '../../store/store.ts';
import type { OutboxItem, ParentRef, PendingChild, RunRecord } from '../../common/run-model.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { Execution } from './execution.ts';

/** What the outbox needs the engine to do: make runs, with ids fixed in advance so a retry finds the run it made. */
export interface OtherRuns {
  /** Starts a parent's child, in the child's shard (idempotent: the child's run id is derived). */
  startChild(parent: Pick<RunRecord, 'namespace' | 'workflowId' | 'runId'>, child: PendingChild): Promise<void>;
  /** Starts the run `from` continued as (the same workflow id, so the same shard). */
  continueAsNew(from: RunRecord, item: Extract<OutboxItem, { kind: 'continueAsNew' }>): Promise<void>;
  /** Cancels or terminates a parent's child (or the run its chain continued as), in the child's shard. */
  closeChild(namespace: string, item: Extract<OutboxItem, { kind: 'closeChild' }>): Promise<void>;
  /** Tells a parent that its child closed, in the parent's shard. */
  childClosed(parent: ParentRef, childRunId: string, result: ChildResult): Promise<void>;
}

/** How a child closed, as its parent is told. */
export interface ChildResult {
  output?: unknown;
  failure?: FailureInfo;
}

/**
 * Does the work a commit asked for beyond its own run (the transactional outbox; see
 * `OutboxItem`): start a child, cancel or terminate a child, tell a parent its child closed,
 * start the run a run continued as. Each item comes from the timer index, so one committed
 * before a crash is done after it; each handler is idempotent, and the item is removed once its
 * work is done — at least once, never lost.
 */
export class Outbox {
  constructor(
    private readonly store: Store,
    private readonly executions: ExecutionCache,
    private readonly runs: OtherRuns,
  ) {}

  /** Does the item an 'outbox' timer entry points at; rejects (and is retried) when it cannot be done now. */
  async fire(entry: TimerEntry): Promise<void> {
    const open = await this.executions.load(entry.runId);
    const run = open?.run ?? (await this.store.getRun(entry.runId));
    const item = run?.outbox?.[entry.id];
    if (!run || !item) {
      // Done and removed already; a stray index entry is dropped.
      if (run) await this.settle(entry.runId, [entry.id], open);
      return;
    }
    switch (item.kind) {
      case 'startChild':
        if (!open) return this.settle(run.runId, [item.id], open);
        return open.startChild(item.childId, item.id, (child) => this.runs.startChild(open.run, child), startRefusal);
      case 'closeChild':
        await this.runs.closeChild(run.namespace, item);
        return this.settle(run.runId, [item.id], open);
      case 'notifyParent':
        await this.runs.childClosed(run.parent!, run.runId, { output: run.output, failure: run.failure && childFailure(run) });
        return this.settle(run.runId, [item.id], open);
      case 'continueAsNew':
        await this.runs.continueAsNew(run, item);
        return this.settle(run.runId, [item.id], open);
    }
  }

  /** Does a run's pending close-child items now (a reset frees its children's workflow ids this way). */
  async drainCloseChild(runId: string): Promise<void> {
    const run = await this.store.getRun(runId);
    for (const item of Object.values(run?.outbox ?? {})) {
      if (item.kind === 'closeChild') await this.fire({ runId, id: item.id, kind: 'outbox', dueAt: item.dueAt });
    }
  }

  /**
   * Cancels or terminates a child; for a child that continued as new, the open run at the end of
   * its chain. The chain may hand over while this runs: a run that closed by continuing as new
   * before the request reached it (its successor perhaps not made yet) passes the request on to
   * its successor, made here if the outbox has not made it yet (idempotent). Otherwise the chain
   * would outlive its parent's close policy.
   */
  private async settle(runId: string, itemIds: string[], open: Execution | undefined): Promise<void> {
    if (open && (await open.settleOutbox(itemIds))) return;
    await this.executions.settleClosedOutbox(runId, itemIds);
  }
}

/** The failure a parent sees for a closed child run: a ChildWorkflowFailure whose cause is the child's own. */
function childFailure(child: RunRecord): FailureInfo {
  return toFailureInfo(new ChildWorkflowFailure(child.type, child.workflowId, fromFailureInfo(child.failure!), child.runId));
}

/** A start the server refuses for good becomes the child's failure; anything else is retried. */
function startRefusal(error: unknown, child: PendingChild): FailureInfo | undefined {
  // A child whose first step was refused (a broken step limit, machine code that threw) was
  // never made: its parent hears it as the child's failure, as for a start the server refused.
  if (error instanceof ExecutionAlreadyStartedError || error instanceof WorkflowIdReuseRejectedError || error instanceof WorkflowTypeNotFoundError
    || (error instanceof MachineStepError && error.outcome === 'refused')) {
    return toFailureInfo(new ChildWorkflowFailure(child.workflowType, child.workflowId, error));
  }
  return undefined;
}
