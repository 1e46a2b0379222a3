import { PerdureError } from '../../common/errors.ts';
import { CLOSED_STATUSES } from '../../common/history.ts';
import type { RunCommit, Store } from '../../store/store.ts';
import { withoutOutboxItems } from '../core/run-state.ts';
import { Mailbox } from './mailbox.ts';

/**
 * The owner of one run's writes: its mailbox, and the one place where the engine commits a
 * `RunCommit` (issue 13, "one write path"). An open run's actor is its `Execution`; a closed
 * run, which has no execution in memory, gets a `ClosedRun` while its outbox items are removed.
 *
 * Invariant: every commit of a run is made by `write`, inside that run's mailbox. So a commit's
 * fence (the shard and epoch the write is made under, see `RunCommit`) has one place to be
 * stamped, and no two writers of one run can interleave. A test (run-actor-writes.test.ts)
 * fails if any other file of src/engine calls `.commit(`.
 *
 * @example
 * class Example extends RunActor {
 *   save(commit: RunCommit) { return this.enqueue(() => this.write(commit)); }
 * }
 */
export class RunActor {
  private readonly mailbox = new Mailbox();

  constructor(protected readonly store: Store) {}

  get idle(): boolean {
    return this.mailbox.idle;
  }

  /** Resolves once every job enqueued so far has been processed. */
  settled(): Promise<void> {
    return this.mailbox.enqueue(async () => {});
  }

  /** Runs `job` after every job enqueued before it. */
  protected enqueue<T>(job: () => Promise<T>): Promise<T> {
    return this.mailbox.enqueue(job);
  }

  /** Commits one step of this run; call it only from a job of this actor's mailbox. */
  protected async write(commit: RunCommit): Promise<void> {
    await this.store.commit(commit);
  }
}

/**
 * A closed run as the writer of its own record: done outbox items (engine/runtime/outbox.ts)
 * are removed from the stored record, not from a copy in memory, which may predate earlier
 * removals and would bring them back. One per run while in use (ExecutionCache keeps it), so
 * removals are made one at a time, each from the record the last one left.
 */
export class ClosedRun extends RunActor {
  constructor(store: Store, readonly runId: string) {
    super(store);
  }

  /** Removes `itemIds` from the run's outbox; rejects (and the item is tried again) if the run is open. */
  removeOutboxItems(itemIds: readonly string[]): Promise<void> {
    return this.enqueue(async () => {
      const run = await this.store.getRun(this.runId);
      if (!run || !itemIds.some((id) => run.outbox?.[id])) return;
      if (!CLOSED_STATUSES.has(run.status)) throw new PerdureError('INTERNAL', `run ${this.runId} is open but not loaded (blocked?): its outbox item waits and is tried again.`);
      const { run: next, timers } = withoutOutboxItems(run, itemIds);
      await this.write({ run: next, previousLastSeq: run.lastSeq, previousStatus: run.status, events: [], timers });
    });
  }
}
