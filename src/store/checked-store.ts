import { CommitConflictError, HistoryCorruptedError, InvalidArgumentError, ShardOwnershipLostError, StoreClosedError } from '../common/errors.ts';
import { CLOSED_STATUSES, type HistoryEvent } from '../common/history.ts';
import { KeyedQueue } from '../common/keyed-queue.ts';
import type { RunRecord } from '../common/run-model.ts';
import { openHistoryEvent } from './history-codec.ts';
import { pageLimit } from './level-listing.ts';
import type { ShardOwnership } from './shard-ownership.ts';
import type {
  BatchObserver, ClosedRunRef, CountRunsResult, ListRunsPage, ListRunsQuery, ListSchedulesPage, ListSchedulesQuery,
  NamespaceRecord, RunCommit, ScheduleRecord, Store, TaskEntry, TimerEntry,
} from './store.ts';
import { validateCommit } from './validate-commit.ts';

/** A stored history event as a backend reads it: its seq and its sealed bytes (checksum unchecked). */
export interface StoredEvent {
  seq: number;
  sealed: Buffer;
}

/**
 * What a backend's `_commit` answers: 'written' once durable; 'stale' (nothing written) when the
 * commit does not continue the run as stored — another `previousLastSeq` or `previousStatus`
 * than the stored run's, or a first commit of a run that exists.
 */
export type CommitOutcome = 'written' | 'stale';

/**
 * The checks every backend owes the `Store` contract, written once (after abstract-level: public
 * methods check, `_` methods implement). A backend extends this class and implements the `_`
 * methods only; it never sees a call on a closed store, a malformed commit, a commit for a shard
 * or epoch it does not hold, nor two commits (or deletes) of one run at once.
 *
 * ```
 * open() ──► _open()            concurrent calls share one attempt; reopening waits for close
 * commit(c) ─ open? ─ validateCommit ─ shard/epoch held? ─► run's queue ─► _commit(c)
 * close() ─ refuse new calls ─ wait for the accepted commits and deletes ─► _close()
 * ```
 *
 * Invariant: a run's `_commit` and `_deleteRun` calls run one after another, in the order they
 * were accepted, so a backend's check of the stored history against `previousLastSeq` is exact
 * (two commits of one run can never both pass it). A commit that fails that check is answered
 * 'stale' by the backend, and the base rejects it with COMMIT_CONFLICT: a conflict between two
 * writers of one run, never INVALID_ARGUMENT (the commit was well formed, only overtaken).
 *
 * @example
 * class MemoryStore extends CheckedStore {
 *   protected async _open() {}
 *   protected async _commit(commit: RunCommit): Promise<CommitOutcome> { … }
 *   // … the other `_` methods
 * }
 */
export abstract class CheckedStore implements Store {
  private isOpen = false;
  private closing = false;
  private opening: Promise<void> | undefined;
  private closingDone: Promise<void> | undefined;
  /** Each run's commits and deletes, one after another (the invariant above). */
  private readonly runOrder = new KeyedQueue();
  private readonly batchObservers = new Set<BatchObserver>();

  // ── what a backend implements ──

  /** Acquires the backend's resources; throws (and holds nothing) when it cannot. */
  protected abstract _open(): Promise<void>;
  /** Called once every accepted commit and delete has finished: flush, then release everything. */
  protected abstract _close(): Promise<void>;
  protected abstract _shards(): ShardOwnership;
  /** Writes a checked commit atomically, or answers 'stale' (writing nothing) when it does not continue the stored run. */
  protected abstract _commit(commit: RunCommit): Promise<CommitOutcome>;
  protected abstract _getRun(runId: string): Promise<RunRecord | undefined>;
  protected abstract _getCurrentRunId(namespace: string, workflowId: string): Promise<string | undefined>;
  protected abstract _findRunByIdempotencyKey(namespace: string, key: string): Promise<string | undefined>;
  /** Stored events from `fromSeq` on, in seq order, at most `limit` (-1: all); the base checks gaps and checksums. */
  protected abstract _readHistory(runId: string, fromSeq: number, limit: number): Promise<StoredEvent[]>;
  protected abstract _listDueTimers(dueBefore: number, limit: number, shard: number | undefined): Promise<TimerEntry[]>;
  protected abstract _nextTimer(shard: number | undefined): Promise<TimerEntry | undefined>;
  protected abstract _listTasks(shard: number | undefined): Promise<TaskEntry[]>;
  protected abstract _listRuns(query: ListRunsQuery): Promise<ListRunsPage>;
  protected abstract _countRuns(query: ListRunsQuery): Promise<CountRunsResult>;
  protected abstract _getNamespace(name: string): Promise<NamespaceRecord | undefined>;
  protected abstract _listNamespaces(): Promise<NamespaceRecord[]>;
  protected abstract _putNamespace(record: NamespaceRecord): Promise<void>;
  protected abstract _listClosedRuns(namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef }): Promise<ClosedRunRef[]>;
  /** Deletes a stored closed run whose outbox is empty (the base checked both); false if it went meanwhile. */
  protected abstract _deleteRun(run: RunRecord): Promise<boolean>;
  protected abstract _getSchedule(namespace: string, scheduleId: string): Promise<ScheduleRecord | undefined>;
  protected abstract _putSchedule(record: ScheduleRecord): Promise<void>;
  protected abstract _deleteSchedule(namespace: string, scheduleId: string): Promise<void>;
  protected abstract _listSchedules(query: ListSchedulesQuery): Promise<ListSchedulesPage>;

  /**
   * The epoch this node holds `shard` at (undefined: not held). A backend whose `held()` copies
   * a map overrides it with a cheaper lookup: it runs on every commit that names an epoch.
   */
  protected _heldEpoch(shard: number): number | undefined {
    return this._shards().held().get(shard);
  }

  // ── lifecycle ──

  open(): Promise<void> {
    // Concurrent calls share one attempt (a second LevelDB handle would find our own LOCK taken).
    this.opening ??= this.openNow().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async openNow(): Promise<void> {
    await this.closingDone?.catch(() => {}); // reopening the same instance waits for its close to finish
    if (this.isOpen) return;
    await this._open();
    this.isOpen = true;
    this.closing = false;
    this.closingDone = undefined;
  }

  /** Refuses new calls, lets the commits and deletes already accepted finish, then releases the backend. */
  close(): Promise<void> {
    // A second call waits for the first: "closed" must mean the backend is released.
    if (this.isOpen && !this.closing) this.closingDone = this.closeNow();
    return this.closingDone ?? Promise.resolve();
  }

  private async closeNow(): Promise<void> {
    this.closing = true;
    await this.runOrder.idle();
    try {
      await this._close();
    } finally {
      this.isOpen = false;
    }
  }

  /** Throws STORE_CLOSED unless the store is open and not closing: the first line of every public call. */
  protected requireOpen(): void {
    if (!this.isOpen || this.closing) throw new StoreClosedError();
  }

  shards(): ShardOwnership {
    this.requireOpen();
    return this._shards();
  }

  observeBatches(observer: BatchObserver): () => void {
    this.batchObservers.add(observer);
    return () => this.batchObservers.delete(observer);
  }

  /** For the backend's committer: tells every batch observer; one that throws is ignored (metrics never fail a durable write). */
  protected reportBatch(batch: Parameters<BatchObserver>[0]): void {
    for (const observer of this.batchObservers) {
      try {
        observer(batch);
      } catch {
        // see above
      }
    }
  }

  // ── runs ──

  commit(commit: RunCommit): Promise<void> {
    try {
      this.requireOpen();
      validateCommit(commit);
      this.checkShard(commit);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runOrder.run(commit.run.runId, async () => {
      // Not requireOpen(): close() waits for commits already accepted, with `closing` set.
      if (!this.isOpen) throw new StoreClosedError();
      if ((await this._commit(commit)) === 'stale') throw staleCommit(commit);
    });
  }

  /**
   * A commit names the run's shard and the epoch its step was taken at: a shard that is not the
   * run's is a caller's mistake; an epoch this node does not hold the shard at means the shard
   * was lost (and perhaps taken again) since, so the step is refused before it reaches the backend.
   * (PostgreSQL fences again inside its transaction: a shard may be lost in between.)
   */
  private checkShard(commit: RunCommit): void {
    if (commit.shard === undefined && commit.epoch === undefined) return;
    const ownership = this._shards();
    const shard = ownership.shardOf(commit.run.namespace, commit.run.workflowId);
    if (commit.shard !== undefined && commit.shard !== shard) {
      throw new InvalidArgumentError(`commit of run "${commit.run.runId}" names shard ${commit.shard}, but the run is in shard ${shard} of ${ownership.shardCount}`);
    }
    if (commit.epoch === undefined) return;
    const held = this._heldEpoch(shard);
    if (held !== commit.epoch) throw new ShardOwnershipLostError(shard, commit.epoch, held === undefined ? undefined : ownership.nodeId, held);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    this.requireOpen();
    return this._getRun(runId);
  }

  async getCurrentRunId(namespace: string, workflowId: string): Promise<string | undefined> {
    this.requireOpen();
    return this._getCurrentRunId(namespace, workflowId);
  }

  async findRunByIdempotencyKey(namespace: string, key: string): Promise<string | undefined> {
    this.requireOpen();
    return this._findRunByIdempotencyKey(namespace, key);
  }

  /** A run's events in seq order; a gap, a failed checksum or an undecodable event is HistoryCorruptedError for this run alone. */
  async readHistory(runId: string, options: { fromSeq?: number; limit?: number } = {}): Promise<HistoryEvent[]> {
    this.requireOpen();
    const fromSeq = Math.max(1, options.fromSeq ?? 1);
    const stored = await this._readHistory(runId, fromSeq, pageLimit(options.limit, Infinity));
    return stored.map((event, i) => {
      const expected = fromSeq + i;
      // A missing event (a gap) is corruption too: the history must be exactly 1..lastSeq.
      if (event.seq !== expected) throw new HistoryCorruptedError(runId, expected);
      return openHistoryEvent(runId, expected, event.sealed);
    });
  }

  // ── work index: a shard outside the store holds nothing ──

  async listDueTimers(dueBefore: number, limit: number, shard?: number): Promise<TimerEntry[]> {
    this.requireOpen();
    return this.hasShard(shard) ? this._listDueTimers(dueBefore, limit, shard) : [];
  }

  async nextTimer(shard?: number): Promise<TimerEntry | undefined> {
    this.requireOpen();
    return this.hasShard(shard) ? this._nextTimer(shard) : undefined;
  }

  async listTasks(shard?: number): Promise<TaskEntry[]> {
    this.requireOpen();
    return this.hasShard(shard) ? this._listTasks(shard) : [];
  }

  /** True for no shard (a scan of every shard) and for a shard of this store. */
  private hasShard(shard: number | undefined): boolean {
    return shard === undefined || (Number.isInteger(shard) && shard >= 0 && shard < this._shards().shardCount);
  }

  // ── visibility, namespaces, retention, schedules ──

  async listRuns(query: ListRunsQuery): Promise<ListRunsPage> {
    this.requireOpen();
    return this._listRuns(query);
  }

  async countRuns(query: ListRunsQuery): Promise<CountRunsResult> {
    this.requireOpen();
    return this._countRuns(query);
  }

  async getNamespace(name: string): Promise<NamespaceRecord | undefined> {
    this.requireOpen();
    return this._getNamespace(name);
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    this.requireOpen();
    return this._listNamespaces();
  }

  async putNamespace(record: NamespaceRecord): Promise<void> {
    this.requireOpen();
    return this._putNamespace(record);
  }

  async listClosedRuns(namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef }): Promise<ClosedRunRef[]> {
    this.requireOpen();
    return this._listClosedRuns(namespace, options);
  }

  deleteRun(runId: string): Promise<boolean> {
    try {
      this.requireOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    // In the run's queue: a commit accepted before the delete is written (or refused) first.
    return this.runOrder.run(runId, async () => {
      this.requireOpen();
      const run = await this._getRun(runId);
      if (!run) return false;
      if (!CLOSED_STATUSES.has(run.status)) throw new InvalidArgumentError(`run "${runId}" is ${run.status}: only a closed run can be deleted.`);
      // Work the run still asks for (tell its parent, close its children, start its successor) keeps it until done.
      if (Object.keys(run.outbox ?? {}).length > 0) return false;
      return this._deleteRun(run);
    });
  }

  async getSchedule(namespace: string, scheduleId: string): Promise<ScheduleRecord | undefined> {
    this.requireOpen();
    return this._getSchedule(namespace, scheduleId);
  }

  /** One atomic, durable write, like a run commit. */
  async putSchedule(record: ScheduleRecord): Promise<void> {
    this.requireOpen();
    if (typeof record?.namespace !== 'string' || typeof record.scheduleId !== 'string') {
      throw new InvalidArgumentError('putSchedule needs a record with a namespace and a scheduleId.');
    }
    return this._putSchedule(record);
  }

  async deleteSchedule(namespace: string, scheduleId: string): Promise<void> {
    this.requireOpen();
    return this._deleteSchedule(namespace, scheduleId);
  }

  async listSchedules(query: ListSchedulesQuery): Promise<ListSchedulesPage> {
    this.requireOpen();
    const shards = query?.shards;
    if (shards !== undefined && (!Array.isArray(shards) || !shards.every((s) => Number.isInteger(s) && s >= 0))) {
      throw new InvalidArgumentError(`listSchedules: shards must be an array of shard numbers (non-negative integers), got ${JSON.stringify(shards)}.`);
    }
    return this._listSchedules(query ?? {});
  }
}

/** Where a refused commit meant to continue its run from, so the message shows which writer was late. */
function staleCommit({ run, previousLastSeq, previousStatus }: RunCommit): CommitConflictError {
  if (previousLastSeq === 0) return new CommitConflictError(run.runId, 'it is a first commit, but the run already exists');
  const from = previousStatus === undefined ? '' : ` from status "${previousStatus}"`;
  return new CommitConflictError(run.runId, `it continues the run after event #${previousLastSeq}${from}, but the stored run does not end there`);
}
