import { ExecutionAlreadyStartedError, ExecutionClosedError, MachineStepError, VersionMissingError, WorkflowIdReuseRejectedError, WorkflowTypeNotFoundError } from '../../common/errors.ts';
import { ChildWorkflowFailure, fromFailureInfo, toFailureInfo, type FailureInfo } from '../../common/failures.ts';
import type { Store, TimerEntry } from '../../store/store.ts';
import type { OutboxItem, PendingChild, RunRecord } from '../../common/run-model.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { Execution } from './execution.ts';

/** What the outbox needs the engine to do: make runs, with ids fixed in advance so a retry finds the run it made. */
export interface RunMaker {
  /** Starts the child's run (run id `child.runId`) unless it exists; throws when the start is refused. */
  startChild(parent: RunRecord, child: PendingChild): Promise<void>;
  /** Starts the run `item.runId` that `from` continued as, unless it exists or another run took the workflow id. */
  continueAsNew(from: RunRecord, item: Extract<OutboxItem, { kind: 'continueAsNew' }>): Promise<void>;
  /** The executions of the shard a workflow id is in (a child's, a parent's: often another shard). */
  executionsOf(namespace: string, workflowId: string): ExecutionCache;
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
    private readonly runs: RunMaker,
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
        await this.closeChild(run.namespace, item);
        return this.settle(run.runId, [item.id], open);
      case 'notifyParent':
        await this.notifyParent(run);
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
  private async closeChild(namespace: string, item: Extract<OutboxItem, { kind: 'closeChild' }>): Promise<void> {
    const children = this.runs.executionsOf(namespace, item.workflowId);
    for (let runId: string | undefined = item.runId; runId !== undefined; runId = await this.successorOf(runId)) {
      const child = await children.load(runId);
      if (!child) continue; // closed (perhaps continued as new), or never started
      try {
        if (item.action === 'terminate') await child.terminate(item.reason);
        else await child.cancel(item.reason);
        return;
      } catch (error) {
        if (!(error instanceof ExecutionClosedError)) throw error;
      }
    }
  }

  /** The run that run `runId` continued as, made now if it is not yet; undefined where the chain ends. */
  private async successorOf(runId: string): Promise<string | undefined> {
    const run = await this.store.getRun(runId);
    if (run?.status !== 'continuedAsNew' || !run.continuedAs) return undefined; // closed for good, or never started
    const handOver = run.outbox?.continueAsNew;
    if (handOver?.kind === 'continueAsNew') await this.runs.continueAsNew(run, handOver);
    return run.continuedAs;
  }

  private async notifyParent(child: RunRecord): Promise<void> {
    const parent = child.parent!;
    const parents = this.runs.executionsOf(parent.namespace, parent.workflowId);
    const execution = await parents.load(parent.runId);
    if (!execution) {
      // A parent blocked on a missing machine version is still waiting: tell it once it is back
      // (the item is retried). A closed parent's close policy has dealt with the child.
      const record = await parents.record(parent.runId);
      if (record?.status === 'blocked') throw new VersionMissingError(record.workflowId, record.type, record.version);
      return;
    }
    await execution.childClosed(parent.childId, child.runId, { output: child.output, failure: child.failure && childFailure(child) });
  }

  /**
   * Removes done items from a run's record, through the run's actor: an open run's execution; a
   * closed run's ClosedRun (run-actor.ts), which removes them from the stored record, one removal
   * at a time. A run that closed while its item was being done is closed by the time its mailbox
   * takes the removal: it refuses it, and the ClosedRun does it, so that two copies of the record
   * never overwrite each other's removals. The outbox itself writes nothing.
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
