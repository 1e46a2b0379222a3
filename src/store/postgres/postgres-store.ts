import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { InvalidArgumentError, StoreFailedError } from '../../common/errors.ts';
import { CheckedStore, type CommitOutcome, type StoredEvent } from '../checked-store.ts';
import { pageLimit } from '../level-listing.ts';
import { shardOf } from '../shard-hash.ts';
import type { ClosedRunRef, CountRunsResult, ListRunsPage, ListRunsQuery, ListSchedulesPage, ListSchedulesQuery, NamespaceRecord, RunCommit, ScheduleRecord, TaskEntry, TimerEntry } from '../store.ts';
import type { RunRecord } from '../../common/run-model.ts';
import { commitRows } from './commit-rows.ts';
import { BatchedLookup } from './batched-lookup.ts';
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
import type { LeaseEvent, LeaseObserver } from '../lease-events.ts';
import { asStoreError, decodeStored, type StoreContext } from './store-context.ts';

export type { PostgresStoreOptions } from './postgres-options.ts';

/**
 * Commit transactions in flight at once, at most (and fewer than the pool's connections, so a
 * read always finds one). Measured with bench/postgres-store-bench.ts: see docs/cluster.md.
 */
const MAX_COMMITS_IN_FLIGHT = 4;

/** Queries of each kind of batched point read in flight at once (with the commits', below the pool's size). */
const POINT_READS_IN_FLIGHT = 2;

/**
 * The PostgreSQL store: the same `Store` as LevelDB's, on a database several servers will share
 * (docs/cluster.md). It creates and migrates its schema on open, joins the cluster and takes its
 * share of the shards under leases (shard-leases.ts), and group-commits the runs' commits as
 * multi-row transactions. History events carry their CRC-32, checked on every read. The checks
 * every call owes the Store contract (open, commit shape, shard and epoch, run order) are CheckedStore's.
 *
 * @example
 * const store = new PostgresStore({ url: 'postgres://perdure@db/perdure', poolSize: 20 })
 * await store.open() // StoreSchemaTooNewError (STORE_SCHEMA_TOO_NEW) for a database of a newer Perdure
 * await store.commit({ run, previousLastSeq: 0, events })
 * await store.close()
 */
export class PostgresStore extends CheckedStore {
  /** The database, without its password, and the schema: for messages and logs. */
  readonly label: string;
  readonly nodeId: string;
  private readonly resolved: ResolvedPostgresOptions;
  private readonly beforeRelease: PostgresStoreOptions['beforeRelease'];
  private address: string | undefined;
  private context: StoreContext | undefined;
  private committer: PgGroupCommitter | undefined;
  /** The point reads of every start and every passivated run's next event, batched (batched-lookup.ts). */
  private lookups: ReturnType<typeof pointLookups> | undefined;
  private readonly leaseObservers = new Set<LeaseObserver>();
  /** The heartbeat's own connection (see _open). */
  private leasePool: pg.Pool | undefined;

  constructor(options: PostgresStoreOptions) {
    super();
    this.resolved = resolvePostgresOptions(options);
    this.label = this.resolved.label;
    this.nodeId = options.nodeId ?? this.resolved.nodeId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    if (options.onBatch) this.observeBatches(options.onBatch);
    this.beforeRelease = options.beforeRelease;
    this.address = options.address;
  }

  /** Where other nodes, workers and clients reach this node (`host:port`): known once the server listens. */
  async setAddress(address: string | undefined): Promise<void> {
    this.address = address;
    await this.context?.ownership.leases.setAddress(address);
  }

  observeLeases(observer: LeaseObserver): () => void {
    this.leaseObservers.add(observer);
    return () => this.leaseObservers.delete(observer);
  }

  /** Tells the lease observers; one that throws is ignored (metrics never stop a heartbeat or a commit). */
  private tellLease(event: LeaseEvent): void {
    for (const observer of this.leaseObservers) {
      try {
        observer(event);
      } catch {
        // see above
      }
    }
  }

  /** The shard count of the database (known once open). */
  get shardCount(): number | undefined {
    return this.context?.shardCount;
  }

  protected async _open(): Promise<void> {
    const pool = new pg.Pool(this.resolved.pool);
    // An idle connection that breaks (a restarted database, pg_terminate_backend) is dropped by
    // the pool; without a listener its 'error' would end the process.
    pool.on('error', () => {});
    // The heartbeat has a connection of its own. On the shared pool it queued behind commits and
    // reads: a node that had just gained shards flooded the pool with their recovery reads, its
    // renewal waited past the lease, it reported every shard lost on its own clock, took them
    // back and flooded the pool again — shards dropped and re-taken every few seconds, each time
    // cancelling and re-running the activity attempts in flight (found by
    // test/fault/cluster-crash.test.ts with a 1.5 s lease: 672 such re-takes in one run).
    const leasePool = new pg.Pool({ ...this.resolved.pool, max: 1 });
    leasePool.on('error', () => {});
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
      const ownership = new PostgresShards(
        pool, fence, shardCount, { leaseMs, renewMs, address: this.address, beforeRelease: this.beforeRelease },
        { label: this.label, told: (event) => this.tellLease(event), leasePool },
      );
      await ownership.leases.start(); // registers the node and takes its share (all of them, alone)
      const label = this.label;
      this.context = { pool, shardCount, fence, ownership, label, decode: (stored, what) => decodeStored(stored, what, label) };
      this.leasePool = leasePool;
      this.lookups = pointLookups(pool);
      this.committer = new PgGroupCommitter(pool, fence, { label, onBatch: (batch) => this.reportBatch(batch), maxInFlight: Math.max(1, Math.min(MAX_COMMITS_IN_FLIGHT, this.resolved.pool.max! - 1)) });
    } catch (error) {
      await pool.end().catch(() => {});
      await leasePool.end().catch(() => {});
      if (error instanceof InvalidArgumentError || (error as { code?: string }).code === 'STORE_SCHEMA_TOO_NEW') throw error;
      throw new StoreFailedError(`cannot open the PostgreSQL store ${this.label}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Lets commits in flight finish, gives the shards up and closes the pool. */
  protected async _close(): Promise<void> {
    const context = this.requireContext();
    await this.committer?.drain();
    await context.ownership.leases.stop().catch(() => {}); // unreachable database: the next owner waits out the lease
    this.context = undefined;
    this.committer = undefined;
    this.lookups = undefined;
    await context.pool.end();
    await this.leasePool?.end();
    this.leasePool = undefined;
  }

  protected _commit(commit: RunCommit): Promise<CommitOutcome> {
    return this.committer!.submit(commitRows(commit, this.requireContext().shardCount));
  }

  /** The fence's own lookup: `held()` copies its map, and this runs on every commit. */
  protected override _heldEpoch(shard: number): number | undefined {
    return this.requireContext().fence.epochOf(shard);
  }

  protected async _getRun(runId: string): Promise<RunRecord | undefined> {
    const context = this.requireContext();
    const row = await this.read(this.lookups!.runs.get(runId));
    return row && context.decode<RunRecord>(row.record, `record of run "${runId}"`);
  }

  protected async _getCurrentRunId(namespace: string, workflowId: string): Promise<string | undefined> {
    const context = this.requireContext();
    const row = await this.read(this.lookups!.currentRuns.get({ shard: shardOf(namespace, workflowId, context.shardCount), namespace, workflowId }));
    return row?.run_id;
  }

  protected async _findRunByIdempotencyKey(namespace: string, key: string): Promise<string | undefined> {
    const context = this.requireContext();
    const { rows } = await this.read(context.pool.query<{ run_id: string }>({
      name: 'perdure.idempotency-key', text: 'SELECT run_id FROM idempotency_keys WHERE namespace = $1 AND idem_key = $2', values: [namespace, key],
    }));
    return rows[0]?.run_id;
  }

  /** A run's stored events in seq order (the base checks gaps and checksums). */
  protected async _readHistory(runId: string, fromSeq: number, limit: number): Promise<StoredEvent[]> {
    const context = this.requireContext();
    const { rows } = await this.read(context.pool.query<{ seq: number; event: Buffer }>(
      `SELECT h.seq, h.event FROM runs r JOIN history h ON h.shard = r.shard AND h.run_id = r.run_id
        WHERE r.run_id = $1 AND h.seq >= $2 ORDER BY h.seq LIMIT $3`,
      [runId, fromSeq, limit === -1 ? null : limit],
    ));
    return rows.map((row) => ({ seq: row.seq, sealed: row.event }));
  }

  protected _shards(): ShardOwnership {
    return this.requireContext().ownership;
  }

  // A scan without a shard reads every shard (`$n::integer IS NULL`): for tools and tests.
  protected async _listDueTimers(dueBefore: number, limit: number, shard?: number): Promise<TimerEntry[]> {
    const context = this.requireContext();
    const max = pageLimit(limit, Infinity);
    const { rows } = await this.read(context.pool.query<TimerRow>(
      `SELECT run_id, kind, id, due_at FROM timers WHERE ($3::integer IS NULL OR shard = $3) AND due_at <= $1
        ORDER BY due_at, run_id, kind, id LIMIT $2`,
      [Number.isNaN(dueBefore) ? 0 : Math.floor(Math.min(dueBefore, Number.MAX_SAFE_INTEGER)), max === -1 ? null : max, shard ?? null],
    ));
    return rows.map(timerOf);
  }

  protected async _nextTimer(shard?: number): Promise<TimerEntry | undefined> {
    const context = this.requireContext();
    const { rows } = await this.read(context.pool.query<TimerRow>(
      'SELECT run_id, kind, id, due_at FROM timers WHERE ($1::integer IS NULL OR shard = $1) ORDER BY due_at, run_id, kind, id LIMIT 1',
      [shard ?? null],
    ));
    return rows[0] && timerOf(rows[0]);
  }

  protected async _listTasks(shard?: number): Promise<TaskEntry[]> {
    const context = this.requireContext();
    const { rows } = await this.read(context.pool.query<{ namespace: string; task_queue: string; run_id: string; activity_id: string; attempt: number }>(
      'SELECT namespace, task_queue, run_id, activity_id, attempt FROM tasks WHERE ($1::integer IS NULL OR shard = $1) ORDER BY run_id, activity_id',
      [shard ?? null],
    ));
    return rows.map((r) => ({ namespace: r.namespace, taskQueue: r.task_queue, runId: r.run_id, activityId: r.activity_id, attempt: r.attempt }));
  }

  protected async _listRuns(query: ListRunsQuery): Promise<ListRunsPage> {
    return this.read(listRunsOn(this.requireContext().pool, query));
  }

  protected async _countRuns(query: ListRunsQuery): Promise<CountRunsResult> {
    return this.read(countRunsOn(this.requireContext().pool, query));
  }

  protected async _getNamespace(name: string): Promise<NamespaceRecord | undefined> {
    return this.read(getNamespaceOn(this.requireContext(), name));
  }

  protected async _listNamespaces(): Promise<NamespaceRecord[]> {
    return this.read(listNamespacesOn(this.requireContext()));
  }

  protected async _putNamespace(record: NamespaceRecord): Promise<void> {
    return this.read(putNamespaceOn(this.requireContext().pool, record));
  }

  protected async _listClosedRuns(namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef }): Promise<ClosedRunRef[]> {
    return this.read(listClosedRunsOn(this.requireContext(), namespace, options));
  }

  protected async _deleteRun(run: RunRecord): Promise<boolean> {
    const context = this.requireContext();
    return deleteRunOn(context, run, shardOf(run.namespace, run.workflowId, context.shardCount));
  }

  protected async _getSchedule(namespace: string, scheduleId: string): Promise<ScheduleRecord | undefined> {
    return this.read(getScheduleOn(this.requireContext(), namespace, scheduleId));
  }

  protected async _putSchedule(record: ScheduleRecord): Promise<void> {
    return this.read(putScheduleOn(this.requireContext(), record));
  }

  protected async _deleteSchedule(namespace: string, scheduleId: string): Promise<void> {
    return this.read(deleteScheduleOn(this.requireContext(), namespace, scheduleId));
  }

  protected async _listSchedules(query: ListSchedulesQuery): Promise<ListSchedulesPage> {
    return this.read(listSchedulesOn(this.requireContext(), query));
  }

  // ── implementation ──

  /** The open store's context: the base calls a `_` method only while the store is open (or closing). */
  private requireContext(): StoreContext {
    return this.context!;
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

/** A workflow id's pointer, as `_getCurrentRunId` looks it up. */
interface PointerKey {
  shard: number;
  namespace: string;
  workflowId: string;
}

const pointerKey = (shard: number, namespace: string, workflowId: string) => JSON.stringify([shard, namespace, workflowId]);

/** The two point reads on the hot path, each batched: a run's record, and a workflow id's current run. */
function pointLookups(pool: pg.Pool) {
  return {
    runs: new BatchedLookup<string, { run_id: string; record: Buffer }>(
      async (runIds) => (await pool.query<{ run_id: string; record: Buffer }>({
        name: 'perdure.runs', text: 'SELECT run_id, record FROM runs WHERE run_id = ANY($1::text[])', values: [runIds],
      })).rows,
      (row) => row.run_id, (runId) => runId, POINT_READS_IN_FLIGHT,
    ),
    currentRuns: new BatchedLookup<PointerKey, { shard: number; namespace: string; workflow_id: string; run_id: string }>(
      async (keys) => (await pool.query<{ shard: number; namespace: string; workflow_id: string; run_id: string }>({
        name: 'perdure.current-runs',
        text: `SELECT e.shard, e.namespace, e.workflow_id, e.run_id
                 FROM unnest($1::integer[], $2::text[], $3::text[]) AS k(shard, namespace, workflow_id)
                 JOIN executions e ON e.shard = k.shard AND e.namespace = k.namespace AND e.workflow_id = k.workflow_id`,
        values: [keys.map((k) => k.shard), keys.map((k) => k.namespace), keys.map((k) => k.workflowId)],
      })).rows,
      (row) => pointerKey(row.shard, row.namespace, row.workflow_id), (key) => pointerKey(key.shard, key.namespace, key.workflowId), POINT_READS_IN_FLIGHT,
    ),
  };
}
