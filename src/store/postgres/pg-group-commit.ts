import type { Pool, PoolClient } from 'pg';
import { StoreFailedError } from '../../common/errors.ts';
import type { CommitOutcome } from '../checked-store.ts';
import type { BatchObserver } from '../group-commit.ts';
import type { CommitRows } from './commit-rows.ts';
import type { ShardFence } from './shard-fence.ts';

interface Waiter {
  rows: CommitRows;
  resolve(outcome: CommitOutcome): void;
  reject(error: Error): void;
}

/**
 * Group commit on PostgreSQL: the commits of many runs that arrive while a transaction is in
 * flight go to the database together, as one transaction of five round trips whatever their
 * number — each statement is multi-row, its rows passed as arrays and read back with `unnest`:
 *
 * ```
 * BEGIN
 * SELECT … FROM shards … FOR SHARE          the fence: every shard written, still ours at our epoch?
 * WITH ins AS (INSERT runs …), upd AS (UPDATE runs … WHERE last_seq = previous) SELECT run_id
 *                                           the claim: which commits continue their run's history
 * WITH … DELETE timers, tasks; INSERT history, pointers, timers, tasks   the accepted commits' rows
 * COMMIT                                    durable (synchronous_commit stays on) → resolve them
 * ```
 *
 * Each commit is all or nothing and refused alone: a commit of a shard this node lost rejects
 * with ShardOwnershipLostError, a commit that does not continue its run's stored history (stale,
 * or a second first commit) resolves 'stale' (the store's base makes it COMMIT_CONFLICT), and
 * neither stops the others of the batch.
 * A failed transaction rejects its commits with StoreFailedError (nothing of it was written, or
 * — when the connection broke during COMMIT — its outcome is unknown and the engine must re-read);
 * unlike LevelDB's, this committer is not fail-stop: the next batch is tried afresh.
 *
 * Invariant: two commits of one run are never in one batch, nor in two batches in flight (the
 * store queues each run's commits one after another), so the claim's UPDATE meets each row at
 * most once and concurrent transactions never write the same run's rows. Rows shared between
 * runs (a workflow id's pointer, an idempotency key) are written in key order, so two
 * transactions that both write some of them wait for each other in one order, never in a cycle.
 */
export class PgGroupCommitter {
  private queue: Waiter[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly pool: Pool,
    private readonly fence: ShardFence,
    private readonly options: { label: string; onBatch?: BatchObserver; maxInFlight: number },
  ) {}

  /** Resolves 'written' once `rows` are durable, as one atomic part of a transaction; 'stale' when they do not continue their run. */
  submit(rows: CommitRows): Promise<CommitOutcome> {
    return new Promise<CommitOutcome>((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // Started on a microtask so submissions of the same tick share the first transaction too.
      queueMicrotask(() => {
        this.scheduled = false;
        this.pump();
      });
    });
  }

  /** Resolves once everything submitted so far has been written (or refused). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0 || this.queue.length > 0) {
      if (this.inFlight.size === 0) this.pump();
      await Promise.all(this.inFlight);
    }
  }

  /**
   * Starts a transaction of everything queued while fewer than `maxInFlight` are in flight.
   * Several in flight, on connections of their own, let PostgreSQL flush the WAL of many at
   * once while the next one is being sent (a commit waits about one WAL flush, ~7 ms on the
   * machine measured in docs/cluster.md); one at a time would leave the database idle during
   * each flush.
   */
  private pump(): void {
    while (this.inFlight.size < this.options.maxInFlight && this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      const writing: Promise<void> = this.writeBatch(group).finally(() => {
        this.inFlight.delete(writing);
        this.pump();
      });
      this.inFlight.add(writing);
    }
  }

  private async writeBatch(group: Waiter[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.tryBatch(group);
      if (outcome !== 'retry' || attempt === MAX_ATTEMPTS) {
        if (outcome !== 'written') for (const waiter of group) waiter.reject(outcome === 'retry' ? this.failure(new Error('deadlocked again')) : outcome);
        return;
      }
    }
  }

  /**
   * One transaction of `group`. The commits it refuses (a lost shard, a stale run) are told only
   * once it committed: a transaction PostgreSQL aborted (a deadlock) is tried again whole, and
   * may decide otherwise.
   */
  private async tryBatch(group: Waiter[]): Promise<'written' | 'retry' | StoreFailedError> {
    const began = performance.now();
    let client: PoolClient | undefined;
    let broken: Error | undefined;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      const refusals: (() => void)[] = [];
      const lost = await this.fence.check(client, [...new Set(group.map((w) => w.rows.shard))]);
      const live = group.filter((w) => {
        const error = lost.get(w.rows.shard);
        if (error) refusals.push(() => w.reject(error)); // nothing of it is written: the fence holds for the whole transaction
        return !error;
      });
      const claimed = await claim(client, live.map((w) => w.rows));
      const accepted = live.filter((w) => {
        if (claimed.has(w.rows.runId)) return true;
        refusals.push(() => w.resolve('stale')); // nothing of it is written
        return false;
      });
      if (accepted.length > 0) await writeRows(client, accepted.map((w) => w.rows));
      await client.query('COMMIT');
      for (const refuse of refusals) refuse();
      for (const waiter of accepted) waiter.resolve('written');
      try {
        this.options.onBatch?.({ commits: group.length, operations: countRows(accepted.map((w) => w.rows)), ms: performance.now() - began });
      } catch {
        // A metrics observer that throws must not turn a durable commit into a failure.
      }
      return 'written';
    } catch (cause) {
      await client?.query('ROLLBACK').catch(() => {});
      // Aborted by PostgreSQL to break a deadlock (or a serialization failure): nothing of it
      // was written, and the connection is sound.
      if (RETRYABLE_SQLSTATES.has((cause as { code?: string }).code ?? '')) return 'retry';
      broken = cause instanceof Error ? cause : new Error(String(cause));
      return this.failure(broken);
    } finally {
      // A client whose transaction failed may be mid-protocol: destroy it rather than reuse it.
      client?.release(broken);
    }
  }

  private failure(cause: Error): StoreFailedError {
    return new StoreFailedError(
      `a commit transaction on ${this.options.label} failed (${cause.message}); nothing of it is acknowledged. ` +
        'Check that the database is reachable; the store tries the next commits afresh.',
      { cause },
    );
  }
}

/** deadlock_detected, serialization_failure: PostgreSQL aborted the transaction, which may simply be run again. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 3;

/** The commits whose runs they continue: new runs inserted, existing ones updated where their history ends. */
async function claim(client: PoolClient, commits: CommitRows[]): Promise<Set<string>> {
  if (commits.length === 0) return new Set();
  const fresh = commits.filter((c) => c.isNew);
  const next = commits.filter((c) => !c.isNew);
  const columns = (list: CommitRows[]) => [
    list.map((c) => c.shard), list.map((c) => c.runId), list.map((c) => c.run.namespace), list.map((c) => c.run.workflowId),
    list.map((c) => c.run.type), list.map((c) => c.run.version), list.map((c) => c.run.status), list.map((c) => c.run.startedAt),
    list.map((c) => c.run.closedAt), list.map((c) => c.run.lastSeq), list.map((c) => c.run.searchAttributes), list.map((c) => c.run.record),
  ];
  const { rows } = await client.query<{ run_id: string }>({
    name: 'perdure.claim',
    text: `WITH ins AS (
       INSERT INTO runs (shard, run_id, namespace, workflow_id, type, version, status, started_at, closed_at, last_seq, search_attributes, record)
       SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                            $10::integer[], $11::jsonb[], $12::bytea[])
       ON CONFLICT DO NOTHING
       RETURNING run_id
     ), upd AS (
       UPDATE runs r SET namespace = c.namespace, workflow_id = c.workflow_id, type = c.type, version = c.version, status = c.status,
              started_at = c.started_at, closed_at = c.closed_at, last_seq = c.last_seq, search_attributes = c.search_attributes, record = c.record
         FROM unnest($13::integer[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::bigint[], $21::bigint[],
                     $22::integer[], $23::jsonb[], $24::bytea[], $25::integer[], $26::text[])
              AS c(shard, run_id, namespace, workflow_id, type, version, status, started_at, closed_at, last_seq, search_attributes, record, previous_seq, previous_status)
        WHERE r.shard = c.shard AND r.run_id = c.run_id AND r.last_seq = c.previous_seq
          AND (c.previous_status IS NULL OR r.status = c.previous_status)
       RETURNING r.run_id
     )
     SELECT run_id FROM ins UNION ALL SELECT run_id FROM upd`,
    values: [...columns(fresh), ...columns(next), next.map((c) => c.previousLastSeq), next.map((c) => c.previousStatus ?? null)],
  });
  return new Set(rows.map((r) => r.run_id));
}

/**
 * Everything else the accepted commits write, in one statement. Its parts touch disjoint rows
 * (commit-rows.ts nets each commit's deletes against its puts, and no two commits of a batch
 * share a run), so the order PostgreSQL runs them in does not matter. A pointer shared by two
 * new runs of one batch keeps the last one's, as successive LevelDB puts would.
 */
async function writeRows(client: PoolClient, commits: CommitRows[]): Promise<void> {
  const timerDeletes = commits.flatMap((c) => c.timerDeletes.map((t) => ({ shard: c.shard, ...t })));
  const taskDeletes = commits.flatMap((c) => c.taskDeletes.map((t) => ({ shard: c.shard, runId: c.runId, activityId: t.activityId })));
  const events = commits.flatMap((c) => c.events.map((e) => ({ shard: c.shard, runId: c.runId, ...e })));
  const pointers = lastByKey(commits.filter((c) => c.isNew), (c) => JSON.stringify([c.shard, c.run.namespace, c.run.workflowId]));
  const keys = lastByKey(commits.filter((c) => c.isNew && c.idempotencyKey !== undefined), (c) => JSON.stringify([c.run.namespace, c.idempotencyKey]));
  const timerPuts = commits.flatMap((c) => c.timerPuts.map((t) => ({ shard: c.shard, ...t })));
  const taskPuts = commits.flatMap((c) => c.taskPuts.map((t) => ({ shard: c.shard, ...t })));
  await client.query({
    name: 'perdure.write-rows',
    text: `WITH dt AS (
       DELETE FROM timers t USING unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS d(shard, run_id, kind, id, due_at)
        WHERE t.shard = d.shard AND t.run_id = d.run_id AND t.kind = d.kind AND t.id = d.id AND t.due_at = d.due_at
     ), dk AS (
       DELETE FROM tasks t USING unnest($6::integer[], $7::text[], $8::text[]) AS d(shard, run_id, activity_id)
        WHERE t.shard = d.shard AND t.run_id = d.run_id AND t.activity_id = d.activity_id
     ), h AS (
       INSERT INTO history (shard, run_id, seq, event) SELECT * FROM unnest($9::integer[], $10::text[], $11::integer[], $12::bytea[])
     ), e AS (
       INSERT INTO executions (shard, namespace, workflow_id, run_id) SELECT * FROM unnest($13::integer[], $14::text[], $15::text[], $16::text[])
       ON CONFLICT (shard, namespace, workflow_id) DO UPDATE SET run_id = EXCLUDED.run_id
     ), i AS (
       INSERT INTO idempotency_keys (namespace, idem_key, shard, run_id) SELECT * FROM unnest($17::text[], $18::text[], $19::integer[], $20::text[])
       ON CONFLICT (namespace, idem_key) DO UPDATE SET shard = EXCLUDED.shard, run_id = EXCLUDED.run_id
     ), tp AS (
       INSERT INTO timers (shard, run_id, kind, id, due_at) SELECT * FROM unnest($21::integer[], $22::text[], $23::text[], $24::text[], $25::bigint[])
       ON CONFLICT DO NOTHING
     ), kp AS (
       INSERT INTO tasks (shard, run_id, activity_id, namespace, task_queue, attempt)
       SELECT * FROM unnest($26::integer[], $27::text[], $28::text[], $29::text[], $30::text[], $31::integer[])
       ON CONFLICT (shard, run_id, activity_id) DO UPDATE SET namespace = EXCLUDED.namespace, task_queue = EXCLUDED.task_queue, attempt = EXCLUDED.attempt
     )
     SELECT 1`,
    values: [
      timerDeletes.map((t) => t.shard), timerDeletes.map((t) => t.runId), timerDeletes.map((t) => t.kind), timerDeletes.map((t) => t.id), timerDeletes.map((t) => t.dueAt),
      taskDeletes.map((t) => t.shard), taskDeletes.map((t) => t.runId), taskDeletes.map((t) => t.activityId),
      events.map((e) => e.shard), events.map((e) => e.runId), events.map((e) => e.seq), events.map((e) => e.sealed),
      pointers.map((c) => c.shard), pointers.map((c) => c.run.namespace), pointers.map((c) => c.run.workflowId), pointers.map((c) => c.runId),
      keys.map((c) => c.run.namespace), keys.map((c) => c.idempotencyKey!), keys.map((c) => c.shard), keys.map((c) => c.runId),
      timerPuts.map((t) => t.shard), timerPuts.map((t) => t.runId), timerPuts.map((t) => t.kind), timerPuts.map((t) => t.id), timerPuts.map((t) => t.dueAt),
      taskPuts.map((t) => t.shard), taskPuts.map((t) => t.runId), taskPuts.map((t) => t.activityId), taskPuts.map((t) => t.namespace),
      taskPuts.map((t) => t.taskQueue), taskPuts.map((t) => t.attempt),
    ],
  });
}

/** The last item of each key, sorted by key (the order shared rows are locked in). */
function lastByKey<T>(items: T[], keyOf: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(keyOf(item), item);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

function countRows(commits: CommitRows[]): number {
  return commits.reduce((n, c) => n + 1 + c.events.length + c.timerDeletes.length + c.timerPuts.length + c.taskDeletes.length + c.taskPuts.length, 0);
}
