import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { HistoryCorruptedError, InvalidArgumentError, ShardOwnershipLostError, StoreClosedError, StoreFailedError } from '../../common/errors.ts';
import { CLOSED_STATUSES, type HistoryEvent } from '../../common/history.ts';
import { KeyedQueue } from '../../common/keyed-queue.ts';
import { openHistoryEvent } from '../history-codec.ts';
import { pageLimit } from '../level-listing.ts';
import { shardOf } from '../shard-hash.ts';
import type { ClosedRunRef, CountRunsResult, ListRunsPage, ListRunsQuery, ListSchedulesPage, ListSchedulesQuery, NamespaceRecord, RunCommit, ScheduleRecord, Store, TaskEntry, TimerEntry } from '../store.ts';
import type { RunRecord } from '../../common/run-model.ts';
import { validateCommit } from '../validate-commit.ts';
import { commitRows } from './commit-rows.ts';
import { PgGroupCommitter } from './pg-group-commit.ts';
import { countRunsOn, listRunsOn } from './postgres-listing.ts';
import { getNamespaceOn, listNamespacesOn, putNamespaceOn } from './postgres-namespaces.ts';
import { type PostgresStoreOptions, type ResolvedPostgresOptions, resolvePostgresOptions } from './postgres-options.ts';
import { deleteRunOn, listClosedRunsOn } from './postgres-retention.ts';
import { deleteScheduleOn, getScheduleOn, listSchedulesOn, putScheduleOn } from './postgres-schedules.ts';
import { openSchema } from './schema.ts';
import { ShardFence } from './shard-fence.ts';
import { PostgresShards } from './postgres-shards.ts';
import type { ShardOwnership } from '../shard-ownership.ts';
import { asStoreError, decodeStored, type StoreContext } from './store-context.ts';

export type { PostgresStoreOptions } from './postgres-options.ts';

/**
 * Commit transactions in flight at once, at most (and fewer than the pool's connections, so a
 * read always finds one). Measured with bench/postgres-store-bench.ts: see docs/cluster.md.
 */
const MAX_COMMITS_IN_FLIGHT = 4;

/**
 * The PostgreSQL store: the same `Store` as LevelDB's, on a database several servers will share
 * (docs/cluster.md). It creates and migrates its schema on open, joins the cluster and takes its
 * share of the shards under leases (shard-leases.ts), and group-commits the runs' commits as multi-row transactions.
 * History events carry their CRC-32, checked on every read.
 *
 * @example
 * const store = new PostgresStore({ url: 'postgres://perdure@db/perdure', poolSize: 20 })
 * await store.open() // StoreSchemaTooNewError (STORE_SCHEMA_TOO_NEW) for a database of a newer Perdure
 * await store.commit({ run, previousLastSeq: 0, events })
 * await store.close()
 */
export class PostgresStore implements Store {
  /** The database, without its password, and the schema: for messages and logs. */
  readonly label: string;
  readonly nodeId: string;
  private readonly resolved: ResolvedPostgresOptions;
  private readonly onBatch: PostgresStoreOptions['onBatch'];
  private readonly beforeRelease: PostgresStoreOptions['beforeRelease'];
  private address: string | undefined;
  private context: StoreContext | undefined;
  private committer: PgGroupCommitter | undefined;
  private closing = false;
  private opening: Promise<void> | undefined;
  private closingDone: Promise<void> | undefined;
  /** Each run's commits and deletes, one after another (see the invariant of pg-group-commit.ts). */
  private readonly runOrder = new KeyedQueue();

  constructor(options: PostgresStoreOptions) {
    this.resolved = resolvePostgresOptions(options);
    this.label = this.resolved.label;
    this.nodeId = options.nodeId ?? this.resolved.nodeId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.onBatch = options.onBatch;
    this.beforeRelease = options.beforeRelease;
    this.address = options.address;
  }

  /** Where other nodes, workers and clients reach this node (`host:port`): known once the server listens. */
  async setAddress(address: string | undefined): Promise<void> {
    this.address = address;
    await this.context?.ownership.leases.setAddress(address);
  }

  /** The shard count of the database (known once open). */
  get shardCount(): number | undefined {
    return this.context?.shardCount;
  }

  open(): Promise<void> {
    this.opening ??= this.openNow().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async openNow(): Promise<void> {
    await this.closingDone;
    if (this.context) return;
    const pool = new pg.Pool(this.resolved.pool);
    // An idle connection that breaks (a restarted database, pg_terminate_backend) is dropped by
    // the pool; without a listener its 'error' would end the process.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      let shardCount: number;
      try {
        shardCount = await openSchema(client, this.resolved.schema, this.resolved.shardCount, this.label);
      } finally {
        client.release();
      }
      const fence = new ShardFence(this.nodeId);
      const { leaseMs, renewMs } = this.resolved;
      const ownership = new PostgresShards(pool, fence, shardCount, { leaseMs, renewMs, address: this.address, beforeRelease: this.beforeRelease });
      await ownership.leases.start(); // registers the node and takes its share (all of them, alone)
      const label = this.label;
      this.context = { pool, shardCount, fence, ownership, label, decode: (stored, what) => decodeStored(stored, what, label) };
      this.committer = new PgGroupCommitter(pool, fence, { label, onBatch: this.onBatch, maxInFlight: Math.max(1, Math.min(MAX_COMMITS_IN_FLIGHT, this.resolved.pool.max! - 1)) });
      this.closing = false;
      this.closingDone = undefined;
    } catch (error) {
      await pool.end().catch(() => {});
      if (error instanceof InvalidArgumentError || (error as { code?: string }).code === 'STORE_SCHEMA_TOO_NEW') throw error;
      throw new StoreFailedError(`cannot open the PostgreSQL store ${this.label}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Refuses new calls, lets commits in flight finish, gives the shards up and closes the pool. */
  close(): Promise<void> {
    if (this.context && !this.closing) this.closingDone = this.closeNow(this.context);
    return this.closingDone ?? Promise.resolve();
  }

  private async closeNow(context: StoreContext): Promise<void> {
    this.closing = true;
    await this.runOrder.idle();
    await this.committer?.drain();
    await context.ownership.leases.stop().catch(() => {}); // unreachable database: the next owner waits out the lease
    this.context = undefined;
    this.committer = undefined;
    await context.pool.end();
  }

  commit(commit: RunCommit): Promise<void> {
    let shardCount: number;
    let rows: ReturnType<typeof commitRows>;
    try {
      shardCount = this.requireOpen().shardCount;
      validateCommit(commit);
      rows = commitRows(commit, shardCount);
      checkCommitShard(this.requireOpen(), commit, rows.shard);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runOrder.run(rows.runId, () => {
      // Not requireOpen(): close() waits for commits already accepted, with `closing` set.
      if (!this.committer) throw new StoreClosedError();
      return this.committer.submit(rows);
    });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const context = this.requireOpen();
    const { rows } = await this.read(context.pool.query<{ record: Buffer }>('SELECT record FROM runs WHERE run_id = $1', [runId]));
    return rows[0] && context.decode<RunRecord>(rows[0].record, `record of run "${runId}"`);
  }

  async getCurrentRunId(namespace: string, workflowId: string): Promise<string | undefined> {
    const context = this.requireOpen();
    const { rows } = await this.read(context.pool.query<{ run_id: string }>(
      'SELECT run_id FROM executions WHERE shard = $1 AND namespace = $2 AND workflow_id = $3',
      [shardOf(namespace, workflowId, context.shardCount), namespace, workflowId],
    ));
    return rows[0]?.run_id;
  }

  async findRunByIdempotencyKey(namespace: string, key: string): Promise<string | undefined> {
    const context = this.requireOpen();
    const { rows } = await this.read(context.pool.query<{ run_id: string }>(
      'SELECT run_id FROM idempotency_keys WHERE namespace = $1 AND idem_key = $2', [namespace, key],
    ));
    return rows[0]?.run_id;
  }

  /** A run's events in seq order; a gap, a failed checksum or an undecodable event is HistoryCorruptedError for this run alone. */
  async readHistory(runId: string, options: { fromSeq?: number; limit?: number } = {}): Promise<HistoryEvent[]> {
    const context = this.requireOpen();
    const fromSeq = Math.max(1, options.fromSeq ?? 1);
    const limit = pageLimit(options.limit, Infinity);
    const { rows } = await this.read(context.pool.query<{ seq: number; event: Buffer }>(
      `SELECT h.seq, h.event FROM runs r JOIN history h ON h.shard = r.shard AND h.run_id = r.run_id
        WHERE r.run_id = $1 AND h.seq >= $2 ORDER BY h.seq LIMIT $3`,
      [runId, fromSeq, limit === -1 ? null : limit],
    ));
    return rows.map((row, i) => {
      const expected = fromSeq + i;
      if (row.seq !== expected) throw new HistoryCorruptedError(runId, expected);
      return openHistoryEvent(runId, expected, row.event);
    });
  }

  shards(): ShardOwnership {
    return this.requireOpen().ownership;
  }

  // A scan without a shard reads every shard (`$n::integer IS NULL`): for tools and tests.
  async listDueTimers(dueBefore: number, limit: number, shard?: number): Promise<TimerEntry[]> {
    const context = this.requireOpen();
    const max = pageLimit(limit, Infinity);
    const { rows } = await this.read(context.pool.query<TimerRow>(
      `SELECT run_id, kind, id, due_at FROM timers WHERE ($3::integer IS NULL OR shard = $3) AND due_at <= $1
        ORDER BY due_at, run_id, kind, id LIMIT $2`,
      [Number.isNaN(dueBefore) ? 0 : Math.floor(Math.min(dueBefore, Number.MAX_SAFE_INTEGER)), max === -1 ? null : max, shard ?? null],
    ));
    return rows.map(timerOf);
  }

  async nextTimer(shard?: number): Promise<TimerEntry | undefined> {
    const context = this.requireOpen();
    const { rows } = await this.read(context.pool.query<TimerRow>(
      'SELECT run_id, kind, id, due_at FROM timers WHERE ($1::integer IS NULL OR shard = $1) ORDER BY due_at, run_id, kind, id LIMIT 1',
      [shard ?? null],
    ));
    return rows[0] && timerOf(rows[0]);
  }

  async listTasks(shard?: number): Promise<TaskEntry[]> {
    const context = this.requireOpen();
    const { rows } = await this.read(context.pool.query<{ namespace: string; task_queue: string; run_id: string; activity_id: string; attempt: number }>(
      'SELECT namespace, task_queue, run_id, activity_id, attempt FROM tasks WHERE ($1::integer IS NULL OR shard = $1) ORDER BY run_id, activity_id',
      [shard ?? null],
    ));
    return rows.map((r) => ({ namespace: r.namespace, taskQueue: r.task_queue, runId: r.run_id, activityId: r.activity_id, attempt: r.attempt }));
  }

  async listRuns(query: ListRunsQuery): Promise<ListRunsPage> {
    return this.read(listRunsOn(this.requireOpen().pool, query));
  }

  async countRuns(query: ListRunsQuery): Promise<CountRunsResult> {
    return this.read(countRunsOn(this.requireOpen().pool, query));
  }

  async getNamespace(name: string): Promise<NamespaceRecord | undefined> {
    return this.read(getNamespaceOn(this.requireOpen(), name));
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    return this.read(listNamespacesOn(this.requireOpen()));
  }

  async putNamespace(record: NamespaceRecord): Promise<void> {
    return this.read(putNamespaceOn(this.requireOpen().pool, record));
  }

  async listClosedRuns(namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef }): Promise<ClosedRunRef[]> {
    return this.read(listClosedRunsOn(this.requireOpen(), namespace, options));
  }

  deleteRun(runId: string): Promise<boolean> {
    try {
      this.requireOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runOrder.run(runId, async () => {
      const context = this.requireOpen();
      const run = await this.getRun(runId);
      if (!run) return false;
      if (!CLOSED_STATUSES.has(run.status)) throw new InvalidArgumentError(`run "${runId}" is ${run.status}: only a closed run can be deleted.`);
      // Work the run still asks for (tell its parent, close its children, start its successor) keeps it until done.
      if (Object.keys(run.outbox ?? {}).length > 0) return false;
      return deleteRunOn(context, run, shardOf(run.namespace, run.workflowId, context.shardCount));
    });
  }

  async getSchedule(namespace: string, scheduleId: string): Promise<ScheduleRecord | undefined> {
    return this.read(getScheduleOn(this.requireOpen(), namespace, scheduleId));
  }

  async putSchedule(record: ScheduleRecord): Promise<void> {
    return this.read(putScheduleOn(this.requireOpen(), record));
  }

  async deleteSchedule(namespace: string, scheduleId: string): Promise<void> {
    return this.read(deleteScheduleOn(this.requireOpen(), namespace, scheduleId));
  }

  async listSchedules(query: ListSchedulesQuery): Promise<ListSchedulesPage> {
    return this.read(listSchedulesOn(this.requireOpen(), query ?? {}));
  }

  // ── implementation ──

  private requireOpen(): StoreContext {
    if (!this.context || this.closing) throw new StoreClosedError();
    return this.context;
  }

  /** A call's errors as the store's codes: a PostgreSQL or connection error becomes STORE_FAILED. */
  private async read<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      throw asStoreError(error, this.label);
    }
  }
}

interface TimerRow { run_id: string; kind: TimerEntry['kind']; id: string; due_at: string }

function timerOf(row: TimerRow): TimerEntry {
  return { dueAt: Number(row.due_at), runId: row.run_id, id: row.id, kind: row.kind };
}

/**
 * A commit names the run's shard and the epoch its step was taken at: a shard that is not the
 * run's is a caller's mistake; an epoch this node no longer holds the shard at means the shard
 * was lost (and perhaps taken again) since, so the step is refused before it reaches the database.
 */
function checkCommitShard(context: StoreContext, commit: RunCommit, shard: number): void {
  if (commit.shard !== undefined && commit.shard !== shard) {
    throw new InvalidArgumentError(`commit of run "${commit.run.runId}" names shard ${commit.shard}, but the run is in shard ${shard}`);
  }
  if (commit.epoch === undefined) return;
  const held = context.fence.epochOf(shard);
  if (held !== commit.epoch) throw new ShardOwnershipLostError(shard, commit.epoch, held === undefined ? undefined : context.fence.nodeId, held);
}
