import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { CodecError, decode, encode } from '../common/codec.ts';
import { InvalidArgumentError, StoreCorruptedError, StoreFailedError, StoreLockedError } from '../common/errors.ts';
import { CLOSED_STATUSES } from '../common/history.ts';
import { sameSearchAttributes } from '../common/search-attributes.ts';
import { seal } from './checksum.ts';
import { corrupted, isCorruption, isLockedError, mapCorruption, messageOf } from './level-errors.ts';
import { CheckedStore, type CommitOutcome, type StoredEvent } from './checked-store.ts';
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
import type { ClosedRunRef, CountRunsResult, Durability, ListRunsPage, ListRunsQuery, NamespaceRecord, RunCommit, TaskEntry, TimerEntry } from './store.ts';
import type { RunRecord } from '../common/run-model.ts';
import type { RunSummary } from '../common/execution-types.ts';
import type { ListSchedulesPage, ListSchedulesQuery, ScheduleRecord } from './store.ts';
import { listScheduleRecords } from './schedule-listing.ts';
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
  /**
   * Bytes LevelDB gathers in memory (its memtable) before it writes them to a sorted file on
   * disk. Default 16 MiB; LevelDB's own default, 4 MiB, made the server spend about a tenth more
   * CPU per workflow in the end-to-end bench (more flushes and compactions of the same keys:
   * a run's record is rewritten by each of its commits). Memory: up to twice this while a full
   * one is written out.
   */
  writeBufferBytes?: number;
}

type Db = ClassicLevel<string, Buffer>;

const DEFAULT_RECENT_RUNS = 10_000;
const DEFAULT_WRITE_BUFFER_BYTES = 16 * 2 ** 20;

/**
 * The embedded LevelDB store: one process per data directory, group-committed batches.
 * Key layout: see `keys.ts`. History events carry a CRC-32 checked on every read. The checks
 * every call owes the Store contract (open, commit shape, shard, run order) are CheckedStore's;
 * this class reads and writes.
 *
 * @example
 * const store = new LevelStore({ directory: './data' })
 * await store.open() // StoreLockedError (code STORE_LOCKED) if another process has it
 * await store.commit({ run, previousLastSeq: 0, events })
 * await store.close()
 */
export class LevelStore extends CheckedStore {
  readonly directory: string;
  readonly durability: Durability;
  private handle: Db | undefined;
  private committer: GroupCommitter | undefined;
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
  private readonly writeBufferBytes: number;

  constructor(options: LevelStoreOptions) {
    super();
    if (!options || typeof options.directory !== 'string' || options.directory === '') {
      throw new InvalidArgumentError('LevelStore needs a `directory` (the data directory path).');
    }
    const durability = options.durability ?? 'fsync';
    if (durability !== 'fsync' && durability !== 'os') {
      throw new InvalidArgumentError(`durability must be 'fsync' or 'os', got ${JSON.stringify(durability)}.`);
    }
    this.directory = resolve(options.directory);
    this.durability = durability;
    if (options.onBatch) this.observeBatches(options.onBatch);
    this.tails = new TailCache(options.recentRuns ?? DEFAULT_RECENT_RUNS);
    const writeBufferBytes = options.writeBufferBytes ?? DEFAULT_WRITE_BUFFER_BYTES;
    if (!Number.isSafeInteger(writeBufferBytes) || writeBufferBytes < 64 * 1024) {
      throw new InvalidArgumentError(`writeBufferBytes must be an integer of at least 65536 (64 KiB), got ${JSON.stringify(options.writeBufferBytes)}.`);
    }
    this.writeBufferBytes = writeBufferBytes;
  }

  /** The open database: the base calls a `_` method only while the store is open (or closing). */
  private get db(): Db {
    return this.handle!;
  }

  protected async _open(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const db: Db = new ClassicLevel<string, Buffer>(this.directory, { keyEncoding: 'utf8', valueEncoding: 'buffer', writeBufferSize: this.writeBufferBytes });
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
    this.handle = db;
    this.committer = new GroupCommitter(chainedBatchTarget(db), { sync: this.durability === 'fsync', label: this.directory, onBatch: (batch) => this.reportBatch(batch) });
  }

  /** Lets the writes in flight finish, then releases the directory. */
  protected async _close(): Promise<void> {
    const db = this.db;
    await this.committer?.drain();
    this.handle = undefined;
    this.committer = undefined;
    this.tails.clear();
    await removeOwner(this.directory); // before the lock goes, so it never names a stranger
    await db.close();
  }

  failure(): StoreFailedError | undefined {
    return this.committer?.failed;
  }

  protected _shards(): ShardOwnership {
    return this.ownership;
  }

  protected async _getRun(runId: string): Promise<RunRecord | undefined> {
    const stored = await this.read(`the record of run "${runId}"`, () => this.db.getSync(keys.run(runId)));
    return stored === undefined ? undefined : decodeRunRecord(stored, runId);
  }

  protected _getCurrentRunId(namespace: string, workflowId: string): Promise<string | undefined> {
    return this.readValue<string>(keys.exec(namespace, workflowId), `run pointer of workflow "${workflowId}"`);
  }

  protected _findRunByIdempotencyKey(namespace: string, key: string): Promise<string | undefined> {
    return this.readValue<string>(keys.idem(namespace, key), `idempotency key "${key}"`);
  }

  protected async _readHistory(runId: string, fromSeq: number, limit: number): Promise<StoredEvent[]> {
    const prefix = keys.histPrefix(runId);
    const entries = await this.read(`the history of run "${runId}"`, () => this.db
      .iterator({ gte: keys.hist(runId, fromSeq), lt: prefixRange(prefix).lt, limit })
      .all());
    return entries.map(([key, sealed]) => ({ seq: Number(key.slice(prefix.length)), sealed }));
  }

  // One shard: every scan of shard 0 (the only one the base lets through) reads everything.
  protected async _listDueTimers(dueBefore: number, limit: number): Promise<TimerEntry[]> {
    const range = { gte: keys.timerPrefix(), lt: keys.timerBound(dueBefore), limit: pageLimit(limit, Infinity) };
    return (await this.read('the timer index', () => this.db.values(range).all())).map((v) => this.decodeValue<TimerEntry>(v, 'timer entry'));
  }

  protected async _nextTimer(): Promise<TimerEntry | undefined> {
    const [first] = await this.read('the timer index', () => this.db.values({ ...prefixRange(keys.timerPrefix()), limit: 1 }).all());
    return first && this.decodeValue<TimerEntry>(first, 'timer entry');
  }

  protected async _listTasks(): Promise<TaskEntry[]> {
    return (await this.read('the task index', () => this.db.values(prefixRange(keys.taskPrefix())).all())).map((v) => this.decodeValue<TaskEntry>(v, 'task entry'));
  }

  /** Visibility: a page of runs, newest first (level-listing.ts says how each filter is read). */
  protected _listRuns(query: ListRunsQuery): Promise<ListRunsPage> {
    return this.read('the run listing', () => listRunsIn(this.db, query, (v) => this.decodeValue<RunSummary>(v, 'run summary')));
  }

  /** Visibility: how many runs match (level-listing.ts). */
  protected _countRuns(query: ListRunsQuery): Promise<CountRunsResult> {
    return this.read('the run listing', () => countRunsIn(this.db, query, (v) => this.decodeValue<RunSummary>(v, 'run summary')));
  }

  protected _getNamespace(name: string): Promise<NamespaceRecord | undefined> {
    return this.readValue<NamespaceRecord>(keys.ns(name), `namespace "${name}"`);
  }

  protected async _listNamespaces(): Promise<NamespaceRecord[]> {
    const values = await this.read('the namespaces', () => this.db.values(prefixRange(keys.nsPrefix())).all());
    return values.map((v) => this.decodeValue<NamespaceRecord>(v, 'namespace record'));
  }

  protected _putNamespace(record: NamespaceRecord): Promise<void> {
    return this.committer!.submit([namespacePut(record)]);
  }

  protected _listClosedRuns(namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef }): Promise<ClosedRunRef[]> {
    return this.read('the close-time index', () => listClosedRuns(this.db, namespace, options));
  }

  protected async _deleteRun(run: RunRecord): Promise<boolean> {
    // From the pointer reads to submit without an await: see pointerDeletions.
    const operations = [...runDeletions(run), ...pointerDeletions(this.db, run, this.pointerHolds)];
    await this.committer!.submit(operations);
    return true;
  }

  protected _getSchedule(namespace: string, scheduleId: string): Promise<ScheduleRecord | undefined> {
    return this.readValue<ScheduleRecord>(keys.schedule(namespace, scheduleId), `record of schedule "${scheduleId}"`);
  }

  /** One put through group commit: durable when it resolves, like a run commit. */
  protected _putSchedule(record: ScheduleRecord): Promise<void> {
    return this.committer!.submit([{ type: 'put', key: keys.schedule(record.namespace, record.scheduleId), value: encode(record) }]);
  }

  protected _deleteSchedule(namespace: string, scheduleId: string): Promise<void> {
    return this.committer!.submit([{ type: 'del', key: keys.schedule(namespace, scheduleId) }]);
  }

  protected async _listSchedules(query: ListSchedulesQuery): Promise<ListSchedulesPage> {
    // Every schedule of an embedded store is in its one shard: asked for others, there are none.
    if (query.shards !== undefined && !query.shards.some((s) => this.shards().held().has(s))) return { schedules: [] };
    return this.read('the schedules', () => listScheduleRecords(this.db, query, (value) => this.decodeValue<ScheduleRecord>(value, 'schedule record')));
  }

  // ── implementation ──

  /** Checks the commit against the stored history, then writes it as one atomic part of a batch. */
  protected async _commit(commit: RunCommit): Promise<CommitOutcome> {
    const { db } = this;
    const committer = this.committer!;
    const { run, previousLastSeq } = commit;
    const known = this.tails.get(run.runId);
    let listed: ListedRun | undefined; // where the run is listed now (undefined for a new run)
    if (known) {
      // The hot path: this process wrote the run's last commit, so it knows where it ends.
      if (known.lastSeq !== previousLastSeq || (commit.previousStatus !== undefined && known.status !== commit.previousStatus)) {
        return 'stale';
      }
      listed = known.summary;
    } else if (previousLastSeq > 0) {
      const stored = await this.checkAgainstStored(db, commit);
      if (stored === 'stale') return 'stale';
      listed = stored;
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
    return 'written';
  }

  /**
   * The cold path: a run this process has not written yet is checked against what is stored.
   * Answers where the run is listed now, read from what is stored (not from the caller): the
   * listing entries move when the status or the search attributes change; 'stale' when the
   * stored run does not end where the commit continues it.
   */
  private async checkAgainstStored(db: Db, commit: RunCommit): Promise<ListedRun | undefined | 'stale'> {
    const { run, previousLastSeq } = commit;
    const probe = [keys.hist(run.runId, previousLastSeq + 1), keys.hist(run.runId, previousLastSeq)];
    const [nextExists, lastExists = true] = await this.read(`the history of run "${run.runId}"`, () => db.hasMany(probe));
    if (nextExists || !lastExists) return 'stale';
    const bytes = await this.read(`the record of run "${run.runId}"`, () => db.get(keys.run(run.runId)));
    const stored = bytes && decodeRunRecord(bytes, run.runId);
    if (stored && commit.previousStatus !== undefined && stored.status !== commit.previousStatus) return 'stale';
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
    const stored = await this.read(`the ${what}`, () => this.db.getSync(key));
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

