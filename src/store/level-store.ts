import { KeyedQueue } from '../common/keyed-queue.ts';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { CodecError, decode, encode } from '../common/codec.ts';
import {
  HistoryCorruptedError, InvalidArgumentError, StoreClosedError, StoreCorruptedError, StoreFailedError, StoreLockedError,
} from '../common/errors.ts';
import { CLOSED_STATUSES, type HistoryEvent } from '../common/history.ts';
import { sameSearchAttributes } from '../common/search-attributes.ts';
import { seal } from './checksum.ts';
import { openHistoryEvent } from './history-codec.ts';
import { corrupted, isCorruption, isLockedError, mapCorruption, messageOf, staleCommit } from './level-errors.ts';
import { decodeRunRecord, encodeRunRecord } from './run-record.ts';
import { type BatchObserver, type BatchOperation, GroupCommitter } from './group-commit.ts';
import { chainedBatchTarget } from './chained-batch.ts';
import { keys, prefixRange } from './keys.ts';
import { countRunsIn, listRunsIn, pageLimit, summaryOf } from './level-listing.ts';
import { defaultNamespaceOperations, namespacePut } from './level-namespaces.ts';
import {
  backfillCloseIndex, closeIndexPut, listClosedRuns, PointerHolds, pointerDeletions, pointerKeysOf, runDeletions,
} from './level-retention.ts';
import { describeOwner, removeOwner, writeOwner } from './owner-file.ts';
import type { ClosedRunRef, CountRunsResult, Durability, ListRunsPage, ListRunsQuery, NamespaceRecord, RunCommit, Store, TaskEntry, TimerEntry } from './store.ts';
import type { RunRecord } from '../common/run-model.ts';
import type { RunSummary } from '../common/execution-types.ts';
import type { ListSchedulesPage, ListSchedulesQuery, ScheduleRecord } from './store.ts';
import { listScheduleRecords } from './schedule-listing.ts';
import { validateCommit } from './validate-commit.ts';
import { TailCache } from './tail-cache.ts';
import { SingleNodeShards } from './single-node-shards.ts';
import type { ShardOwnership } from './shard-ownership.ts';

/** Options of {@link LevelStore}. */
export interface LevelStoreOptions {
  /** The data directory; created if missing. One process at a time may open it. */
  directory: string;
  /**
   * `'fsync'` (default): a commit resolves once it is on disk (survives power loss).
   * `'os'`: once the OS has it (survives a process crash, not a power loss); much faster.
   */
  durability?: Durability;
  /** Told of every group-committed batch (commits, operations, milliseconds): for metrics. */
  onBatch?: BatchObserver;
  /**
   * How many recently committed open runs the store remembers the end of, so that their next
   * commit needs no read (about 0.4 KiB each). Default 10,000. A run past it costs two reads on
   * its next commit.
   */
  recentRuns?: number;
}

type Db = ClassicLevel<string, Buffer>;

const DEFAULT_RECENT_RUNS = 10_000;

/**
 * The embedded LevelDB store: one process per data directory, group-committed batches.
 * Key layout: see `keys.ts`. History events carry a CRC-32 checked on every read.
 *
 * @example
 * const store = new LevelStore({ directory: './data' })
 * await store.open() // StoreLockedError (code STORE_LOCKED) if another process has it
 * await store.commit({ run, previousLastSeq: 0, events })
 * await store.close()
 */
export class LevelStore implements Store {
  readonly directory: string;
  readonly durability: Durability;
  private readonly onBatch?: BatchObserver;
  private db: Db | undefined;
  private committer: GroupCommitter | undefined;
  private closing = false;
  private opening: Promise<void> | undefined;
  private closingDone: Promise<void> | undefined;
  /**
   * A run's commits are checked and written one after another: the engine already serialises
   * them, and this makes the stored-history check exact even if it did not (two commits can
   * never both pass it and overwrite each other).
   */
  private readonly runOrder = new KeyedQueue();
  /**
   * Where each open run's stored history ends, for the runs this process committed most
   * recently: saves a read per commit. Valid because one process owns the directory (the
   * LevelDB lock). Bounded: with one entry per open run it grew by 0.4 KiB for every execution
   * waiting on a signal, long after the engine had passivated it (issue 12's scale bench).
   */
  private readonly tails: TailCache<{ lastSeq: number; status: RunRecord['status']; summary: ListedRun }>;
  /** Pointer keys a first commit is writing: a retention delete leaves them alone (see level-retention.ts). */
  private readonly pointerHolds = new PointerHolds();
  /** One node, one shard, always held. */
  private readonly ownership = new SingleNodeShards();

  constructor(options: LevelStoreOptions) {
    if (!options || typeof options.directory !== 'string' || options.directory === '') {
      throw new InvalidArgumentError('LevelStore needs a `directory` (the data directory path).');
    }
    const durability = options.durability ?? 'fsync';
    if (durability !== 'fsync' && durability !== 'os') {
      throw new InvalidArgumentError(`durability must be 'fsync' or 'os', got ${JSON.stringify(durability)}.`);
    }
    this.directory = resolve(options.directory);
    this.durability = durability;
    this.onBatch = options.onBatch;
    this.tails = new TailCache(options.recentRuns ?? DEFAULT_RECENT_RUNS);
  }

  open(): Promise<void> {
    // Concurrent calls share one attempt (a second ClassicLevel would find our own LOCK taken).
    this.opening ??= this.openNow().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async openNow(): Promise<void> {
    await this.closingDone; // reopening the same instance waits for its close to finish
    if (this.db) return;
    await mkdir(this.directory, { recursive: true });
    const db: Db = new ClassicLevel<string, Buffer>(this.directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    try {
      await db.open();
    } catch (cause) {
      if (isLockedError(cause)) {
        throw new StoreLockedError(this.directory, { cause, holder: await describeOwner(this.directory) });
      }
      if (isCorruption(cause)) throw corrupted(this.directory, 'its CURRENT, MANIFEST or log files at start-up', cause);
      throw new StoreFailedError(`cannot open the data directory "${this.directory}": ${messageOf(cause)}`, { cause });
    }
    try {
      await writeOwner(this.directory);
    } catch (cause) {
      await db.close(); // do not keep the lock of a store we report as unopened
      throw new StoreFailedError(`cannot write the OWNER file in "${this.directory}": ${messageOf(cause)}`, { cause });
    }
    try {
      // `default` exists from the first open; older directories get their close-time index once.
      const operations = defaultNamespaceOperations(db, Date.now());
      if (operations.length > 0) await db.batch(operations, { sync: true });
      await backfillCloseIndex(db);
    } catch (cause) {
      await removeOwner(this.directory);
      await db.close();
      if (isCorruption(cause)) throw corrupted(this.directory, 'its namespaces or run records at start-up', cause);
      throw new StoreFailedError(`cannot prepare the data directory "${this.directory}": ${messageOf(cause)}`, { cause });
    }
    this.db = db;
    this.closing = false;
    this.closingDone = undefined;
    this.committer = new GroupCommitter(chainedBatchTarget(db), { sync: this.durability === 'fsync', label: this.directory, onBatch: this.onBatch });
  }

  /** Refuses new calls, lets commits in flight finish, then releases the directory. */
  close(): Promise<void> {
    // A second call waits for the first: "closed" must mean the directory is released.
    if (this.db && !this.closing) this.closingDone = this.closeNow(this.db);
    return this.closingDone ?? Promise.resolve();
  }

  private async closeNow(db: Db): Promise<void> {
    this.closing = true;
    await this.runOrder.idle();
    await this.committer?.drain();
    this.db = undefined;
    this.committer = undefined;
    this.tails.clear();
    await removeOwner(this.directory); // before the lock goes, so it never names a stranger
    await db.close();
  }

  failure(): StoreFailedError | undefined {
    return this.committer?.failed;
  }

  commit(commit: RunCommit): Promise<void> {
    try {
      this.requireOpen();
      validateCommit(commit);
      this.ownership.checkCommit(commit.shard, commit.epoch);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.inRunOrder(commit.run.runId, () => this.checkAndWrite(commit));
  }

  /** Runs `work` after every commit (or delete) of the run accepted before it. */
  private inRunOrder<T>(runId: string, work: () => Promise<T>): Promise<T> {
    return this.runOrder.run(runId, work);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const stored = await this.read(`the record of run "${runId}"`, () => this.requireOpen().getSync(keys.run(runId)));
    return stored === undefined ? undefined : decodeRunRecord(stored, runId);
  }

  async getCurrentRunId(namespace: string, workflowId: string): Promise<string | undefined> {
    return this.readValue<string>(keys.exec(namespace, workflowId), `run pointer of workflow "${workflowId}"`);
  }

  async findRunByIdempotencyKey(namespace: string, key: string): Promise<string | undefined> {
    return this.readValue<string>(keys.idem(namespace, key), `idempotency key "${key}"`);
  }

  async readHistory(runId: string, options: { fromSeq?: number; limit?: number } = {}): Promise<HistoryEvent[]> {
    const db = this.requireOpen();
    const fromSeq = Math.max(1, options.fromSeq ?? 1);
    const prefix = keys.histPrefix(runId);
    const entries = await this.read(`the history of run "${runId}"`, () => db
      .iterator({ gte: keys.hist(runId, fromSeq), lt: prefixRange(prefix).lt, limit: pageLimit(options.limit, Infinity) })
      .all());
    return entries.map(([key, stored], i) => {
      const expected = fromSeq + i;
      // A missing key (a gap) is corruption too: the history must be exactly 1..lastSeq.
      if (Number(key.slice(prefix.length)) !== expected) throw new HistoryCorruptedError(runId, expected);
      return openHistoryEvent(runId, expected, stored);
    });
  }

  shards(): ShardOwnership {
    this.requireOpen();
    return this.ownership;
  }

  async listDueTimers(dueBefore: number, limit: number, shard?: number): Promise<TimerEntry[]> {
    const db = this.requireOpen();
    if (!this.ownership.scans(shard)) return [];
    const range = { gte: keys.timerPrefix(), lt: keys.timerBound(dueBefore), limit: pageLimit(limit, Infinity) };
    return (await this.read('the timer index', () => db.values(range).all())).map((v) => this.decodeValue<TimerEntry>(v, 'timer entry'));
  }

  async nextTimer(shard?: number): Promise<TimerEntry | undefined> {
    const db = this.requireOpen();
    if (!this.ownership.scans(shard)) return undefined;
    const [first] = await this.read('the timer index', () => db.values({ ...prefixRange(keys.timerPrefix()), limit: 1 }).all());
    return first && this.decodeValue<TimerEntry>(first, 'timer entry');
  }

  async listTasks(shard?: number): Promise<TaskEntry[]> {
    const db = this.requireOpen();
    if (!this.ownership.scans(shard)) return [];
    return (await this.read('the task index', () => db.values(prefixRange(keys.taskPrefix())).all())).map((v) => this.decodeValue<TaskEntry>(v, 'task entry'));
  }

  /** Visibility: a page of runs, newest first (level-listing.ts says how each filter is read). */
  async listRuns(query: ListRunsQuery): Promise<ListRunsPage> {
    return this.read('the run listing', () => listRunsIn(this.requireOpen(), query, (v) => this.decodeValue<RunSummary>(v, 'run summary')));
  }

  /** Visibility: how many runs match (level-listing.ts). */
  async countRuns(query: ListRunsQuery): Promise<CountRunsResult> {
    return this.read('the run listing', () => countRunsIn(this.requireOpen(), query, (v) => this.decodeValue<RunSummary>(v, 'run summary')));
  }

  async getNamespace(name: string): Promise<NamespaceRecord | undefined> {
    return this.readValue<NamespaceRecord>(keys.ns(name), `namespace "${name}"`);
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    const values = await this.read('the namespaces', () => this.requireOpen().values(prefixRange(keys.nsPrefix())).all());
    return values.map((v) => this.decodeValue<NamespaceRecord>(v, 'namespace record'));
  }

  async putNamespace(record: NamespaceRecord): Promise<void> {
    this.requireOpen();
    await this.committer!.submit([namespacePut(record)]);
  }

  async listClosedRuns(namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef }): Promise<ClosedRunRef[]> {
    return this.read('the close-time index', () => listClosedRuns(this.requireOpen(), namespace, options));
  }

  deleteRun(runId: string): Promise<boolean> {
    try {
      this.requireOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.inRunOrder(runId, async () => {
      const db = this.requireOpen();
      const run = await this.getRun(runId);
      if (!run) return false;
      if (!CLOSED_STATUSES.has(run.status)) throw new InvalidArgumentError(`run "${runId}" is ${run.status}: only a closed run can be deleted.`);
      // Work the run still asks for (tell its parent, close its children, start its successor) keeps it until done.
      if (Object.keys(run.outbox ?? {}).length > 0) return false;
      // From the pointer reads to submit without an await: see pointerDeletions.
      const operations = [...runDeletions(run), ...pointerDeletions(db, run, this.pointerHolds)];
      await this.committer!.submit(operations);
      return true;
    });
  }

  async getSchedule(namespace: string, scheduleId: string): Promise<ScheduleRecord | undefined> {
    return this.readValue<ScheduleRecord>(keys.schedule(namespace, scheduleId), `record of schedule "${scheduleId}"`);
  }

  /** One put through group commit: durable when it resolves, like a run commit. */
  async putSchedule(record: ScheduleRecord): Promise<void> {
    this.requireOpen();
    if (typeof record?.namespace !== 'string' || typeof record.scheduleId !== 'string') {
      throw new InvalidArgumentError('putSchedule needs a record with a namespace and a scheduleId.');
    }
    await this.committer!.submit([{ type: 'put', key: keys.schedule(record.namespace, record.scheduleId), value: encode(record) }]);
  }

  async deleteSchedule(namespace: string, scheduleId: string): Promise<void> {
    this.requireOpen();
    await this.committer!.submit([{ type: 'del', key: keys.schedule(namespace, scheduleId) }]);
  }

  async listSchedules(query: ListSchedulesQuery): Promise<ListSchedulesPage> {
    const db = this.requireOpen();
    return this.read('the schedules', () => listScheduleRecords(db, query ?? {}, (value) => this.decodeValue<ScheduleRecord>(value, 'schedule record')));
  }

  // ── implementation ──

  private requireOpen(): Db {
    if (!this.db || this.closing) throw new StoreClosedError();
    return this.db;
  }

  /** Checks the commit against the stored history, then writes it as one atomic part of a batch. */
  private async checkAndWrite(commit: RunCommit): Promise<void> {
    // Not requireOpen(): close() waits for commits already accepted, with `closing` set.
    const db = this.db;
    const committer = this.committer;
    if (!db || !committer) throw new StoreClosedError();
    const { run, previousLastSeq } = commit;
    const known = this.tails.get(run.runId);
    let listed: ListedRun | undefined; // where the run is listed now (undefined for a new run)
    if (known) {
      // The hot path: this process wrote the run's last commit, so it knows where it ends.
      if (known.lastSeq !== previousLastSeq || (commit.previousStatus !== undefined && known.status !== commit.previousStatus)) {
        throw staleCommit(run.runId, previousLastSeq);
      }
      listed = known.summary;
    } else if (previousLastSeq > 0) {
      listed = await this.checkAgainstStored(db, commit);
    }
    const operations = this.operationsOf(commit, listed);
    // A first commit of a run this process has not seen is not probed: run ids are new UUIDs
    // made by the engine, and a probe would cost a read on every start.
    // A first commit holds its pointer keys until durable, so a retention delete cannot remove them.
    const release = previousLastSeq === 0 ? this.pointerHolds.hold(pointerKeysOf(run)) : undefined;
    try {
      await committer.submit(operations);
    } finally {
      release?.();
    }
    if (CLOSED_STATUSES.has(run.status)) this.tails.delete(run.runId);
    else {
      const summary: ListedRun = { namespace: run.namespace, status: run.status, type: run.type, startedAt: run.startedAt, runId: run.runId, searchAttributes: run.searchAttributes };
      this.tails.set(run.runId, { lastSeq: run.lastSeq, status: run.status, summary });
    }
  }

  /**
   * The cold path: a run this process has not written yet is checked against what is stored.
   * Answers where the run is listed now, read from what is stored (not from the caller): the
   * listing entries move when the status or the search attributes change.
   */
  private async checkAgainstStored(db: Db, commit: RunCommit): Promise<ListedRun | undefined> {
    const { run, previousLastSeq } = commit;
    const probe = [keys.hist(run.runId, previousLastSeq + 1), keys.hist(run.runId, previousLastSeq)];
    const [nextExists, lastExists = true] = await this.read(`the history of run "${run.runId}"`, () => db.hasMany(probe));
    if (nextExists || !lastExists) throw staleCommit(run.runId, previousLastSeq);
    const bytes = await this.read(`the record of run "${run.runId}"`, () => db.get(keys.run(run.runId)));
    const stored = bytes && decodeRunRecord(bytes, run.runId);
    if (stored && commit.previousStatus !== undefined && stored.status !== commit.previousStatus) {
      throw new InvalidArgumentError(
        `commit of run "${run.runId}" refused: previousStatus is "${commit.previousStatus}" but the stored status is "${stored.status}".`,
      );
    }
    return stored || undefined;
  }

  /**
   * Everything one commit writes; deletes come first, so a put of the same key wins. The listing
   * entries are written when the run is new or moves (`listed`: where it is listed now).
   */
  private operationsOf(commit: RunCommit, listed: ListedRun | undefined): BatchOperation[] {
    const { run, events, previousLastSeq } = commit;
    try {
      const ops: BatchOperation[] = [];
      for (const t of commit.timers?.delete ?? []) ops.push({ type: 'del', key: keys.timer(t) });
      for (const t of commit.tasks?.delete ?? []) ops.push({ type: 'del', key: keys.task(t.runId, t.activityId) });
      for (const e of events) ops.push({ type: 'put', key: keys.hist(run.runId, e.seq), value: seal(encode(e)) });
      ops.push({ type: 'put', key: keys.run(run.runId), value: encodeRunRecord(run) });
      if (previousLastSeq === 0) {
        // A run's pointers are written once, by its first commit.
        ops.push({ type: 'put', key: keys.exec(run.namespace, run.workflowId), value: encode(run.runId) });
        if (run.idempotencyKey !== undefined) {
          ops.push({ type: 'put', key: keys.idem(run.namespace, run.idempotencyKey), value: encode(run.runId) });
        }
      }
      for (const t of commit.timers?.put ?? []) ops.push({ type: 'put', key: keys.timer(t), value: encode(t) });
      for (const t of commit.tasks?.put ?? []) ops.push({ type: 'put', key: keys.task(t.runId, t.activityId), value: encode(t) });
      if (!listed || listed.status !== run.status || !sameSearchAttributes(listed.searchAttributes, run.searchAttributes)) {
        if (listed) ops.unshift(...keys.vis(listed).map((key): BatchOperation => ({ type: 'del', key })));
        const summary = encode(summaryOf(run));
        // Search-attribute entries hold keys only: their rows are read from vis/ (keyed-listing.ts).
        for (const key of keys.vis(run)) ops.push({ type: 'put', key, value: key.startsWith(ATTRIBUTE_INDEX) ? NO_VALUE : summary });
        const closed = closeIndexPut(run);
        if (closed) ops.push(closed);
      }
      return ops;
    } catch (error) {
      if (error instanceof CodecError) {
        throw new InvalidArgumentError(`commit of run "${run.runId}" refused: ${error.message}`);
      }
      throw error;
    }
  }

  /**
   * A point read. Synchronous underneath (`getSync`): a hit in LevelDB's memtable or block cache
   * takes microseconds, less than the thread-pool round trip of `get()` — a read happens on every
   * start (is the workflow id taken?), so this is on the hot path.
   */
  private async readValue<T>(key: string, what: string): Promise<T | undefined> {
    const stored = await this.read(`the ${what}`, () => this.requireOpen().getSync(key));
    return stored === undefined ? undefined : this.decodeValue<T>(stored, what);
  }

  /** A read whose LevelDB corruption error says the directory is damaged (level-errors.ts). */
  private read<T>(what: string, read: () => T | Promise<T>): Promise<T> {
    return mapCorruption(this.directory, what, read);
  }

  /**
   * Values other than history have no checksum of their own; one that does not decode means
   * the directory is damaged (not that this process failed), so it is reported as such.
   */
  private decodeValue<T>(stored: Buffer, what: string): T {
    try {
      return decode(stored) as T;
    } catch (cause) {
      throw new StoreCorruptedError(this.directory, `the stored ${what} cannot be decoded (${messageOf(cause)})`, { cause });
    }
  }
}

const ATTRIBUTE_INDEX = 'vis-attr/';
const NO_VALUE = Buffer.alloc(0);

/** What the listing keys of a run are made of (see `keys.vis`). */
type ListedRun = Parameters<typeof keys.vis>[0];

