import type { Pool } from 'pg';
import { StoreFailedError } from '../../common/errors.ts';
import type { CommitOutcome } from '../checked-store.ts';
import type { BatchObserver } from '../group-commit.ts';
import type { CommitRows } from './commit-rows.ts';
import type { FenceRow, ShardFence } from './shard-fence.ts';

interface Waiter {
  rows: CommitRows;
  resolve(outcome: CommitOutcome): void;
  reject(error: Error): void;
}

/**
 * Group commit on PostgreSQL: the commits of many runs that arrive while a transaction is in
 * flight go to the database together, as ONE statement whatever their number (one round trip,
 * its own transaction). Every part is multi-row, its rows passed as arrays and read with
 * `unnest`, and each part takes its input from the one before:
 *
 * ```
 * fence    SELECT … FROM shards … FOR SHARE     every shard written: locked, still ours at our epoch?
 * claim    INSERT runs (new) / UPDATE runs … WHERE last_seq = previous   of the fenced shards only:
 *                                               which commits continue their run's history
 * rows     DELETE timers, tasks; INSERT history, pointers, timers, tasks   of the claimed runs only
 * answer   the fence rows and the claimed run ids
 * ```
 *
 * It replaced BEGIN, three statements and COMMIT (five round trips) with the same locks taken in
 * the same order: one commit alone went from about 1.2 ms to 0.5 ms (bench/postgres-store-bench.ts).
 *
 * Each commit is all or nothing and refused alone: a commit of a shard this node lost rejects
 * with ShardOwnershipLostError, a commit that does not continue its run's stored history (stale,
 * or a second first commit) resolves 'stale' (the store's base makes it COMMIT_CONFLICT), and
 * neither stops the others of the batch.
 * A failed statement rejects its commits with StoreFailedError (nothing of it was written, or
 * — when the connection broke while it ran — its outcome is unknown and the engine must re-read);
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
    const shards = [...new Set(group.map((w) => w.rows.shard))].sort((a, b) => a - b);
    let answer: AnswerRow[];
    try {
      ({ rows: answer } = await this.pool.query<AnswerRow>({
        name: 'perdure.commit', text: COMMIT_STATEMENT,
        values: [shards, this.fence.epochsOf(shards), this.fence.nodeId, ...claimValues(group.map((w) => w.rows)), ...rowValues(group.map((w) => w.rows))],
      }));
    } catch (cause) {
      // Aborted by PostgreSQL to break a deadlock (or a serialization failure): nothing of it
      // was written. (The pool destroys the connection of a failed query.)
      if (RETRYABLE_SQLSTATES.has((cause as { code?: string }).code ?? '')) return 'retry';
      return this.failure(cause instanceof Error ? cause : new Error(String(cause)));
    }
    const lost = this.fence.judge(shards, answer.filter((row) => row.shard !== null) as FenceRow[]);
    const claimed = new Set(answer.filter((row) => row.run_id !== null).map((row) => row.run_id));
    const accepted: CommitRows[] = [];
    for (const waiter of group) {
      const error = lost.get(waiter.rows.shard);
      if (error) waiter.reject(error); // nothing of it is written: the fence held for the whole statement
      else if (!claimed.has(waiter.rows.runId)) waiter.resolve('stale'); // nothing of it is written
      else {
        accepted.push(waiter.rows);
        waiter.resolve('written');
      }
    }
    try {
      this.options.onBatch?.({ commits: group.length, operations: countRows(accepted), ms: performance.now() - began });
    } catch {
      // A metrics observer that throws must not turn a durable commit into a failure.
    }
    return 'written';
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

/** A row of the statement's answer: a fence row (shard set) or a claimed run (run_id set). */
interface AnswerRow {
  shard: number | null;
  owner: string | null;
  epoch: string | null;
  run_id: string | null;
}

const RUN_COLUMNS = 'shard, run_id, namespace, workflow_id, type, version, status, started_at, closed_at, last_seq, search_attributes, record';

/**
 * The whole commit. `$1` shards (in shard order), `$2` the epochs this node holds them at (null:
 * not held), `$3` this node; `$4`–`$29` the claim (claimValues), `$30`–`$60` the rows (rowValues).
 * A shard is `fenced` only where its locked row names this node at the epoch this node holds; the
 * claim reads `fenced`, and every row written reads `claimed`, so nothing of a lost shard or a
 * stale commit is written.
 */
const COMMIT_STATEMENT = `
  WITH fence AS (
    SELECT shard, owner, epoch FROM shards WHERE shard = ANY($1::integer[]) ORDER BY shard FOR SHARE
  ), fenced AS (
    SELECT f.shard FROM fence f JOIN unnest($1::integer[], $2::bigint[]) AS held(shard, epoch) ON held.shard = f.shard
     WHERE f.owner = $3 AND f.epoch = held.epoch
  ), ins AS (
    INSERT INTO runs (${RUN_COLUMNS})
    SELECT * FROM unnest($4::integer[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[],
                         $13::integer[], $14::jsonb[], $15::bytea[]) AS c(${RUN_COLUMNS})
     WHERE c.shard IN (SELECT shard FROM fenced)
    ON CONFLICT DO NOTHING
    RETURNING run_id
  ), upd AS (
    UPDATE runs r SET namespace = c.namespace, workflow_id = c.workflow_id, type = c.type, version = c.version, status = c.status,
           started_at = c.started_at, closed_at = c.closed_at, last_seq = c.last_seq, search_attributes = c.search_attributes, record = c.record
      FROM unnest($16::integer[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::bigint[], $24::bigint[],
                  $25::integer[], $26::jsonb[], $27::bytea[], $28::integer[], $29::text[])
           AS c(${RUN_COLUMNS}, previous_seq, previous_status)
     WHERE r.shard = c.shard AND r.run_id = c.run_id AND r.last_seq = c.previous_seq
       AND (c.previous_status IS NULL OR r.status = c.previous_status)
       AND c.shard IN (SELECT shard FROM fenced)
    RETURNING r.run_id
  ), claimed AS (
    SELECT run_id FROM ins UNION ALL SELECT run_id FROM upd
  ), dt AS (
    DELETE FROM timers t USING unnest($30::integer[], $31::text[], $32::text[], $33::text[], $34::bigint[]) AS d(shard, run_id, kind, id, due_at)
     WHERE t.shard = d.shard AND t.run_id = d.run_id AND t.kind = d.kind AND t.id = d.id AND t.due_at = d.due_at
       AND d.run_id IN (SELECT run_id FROM claimed)
  ), dk AS (
    DELETE FROM tasks t USING unnest($35::integer[], $36::text[], $37::text[]) AS d(shard, run_id, activity_id)
     WHERE t.shard = d.shard AND t.run_id = d.run_id AND t.activity_id = d.activity_id
       AND d.run_id IN (SELECT run_id FROM claimed)
  ), h AS (
    INSERT INTO history (shard, run_id, seq, event)
    SELECT * FROM unnest($38::integer[], $39::text[], $40::integer[], $41::bytea[]) AS e(shard, run_id, seq, event)
     WHERE e.run_id IN (SELECT run_id FROM claimed)
  ), e AS (
    INSERT INTO executions (shard, namespace, workflow_id, run_id)
    SELECT * FROM unnest($42::integer[], $43::text[], $44::text[], $45::text[]) AS p(shard, namespace, workflow_id, run_id)
     WHERE p.run_id IN (SELECT run_id FROM claimed)
    ON CONFLICT (shard, namespace, workflow_id) DO UPDATE SET run_id = EXCLUDED.run_id
  ), i AS (
    INSERT INTO idempotency_keys (namespace, idem_key, shard, run_id)
    SELECT * FROM unnest($46::text[], $47::text[], $48::integer[], $49::text[]) AS k(namespace, idem_key, shard, run_id)
     WHERE k.run_id IN (SELECT run_id FROM claimed)
    ON CONFLICT (namespace, idem_key) DO UPDATE SET shard = EXCLUDED.shard, run_id = EXCLUDED.run_id
  ), tp AS (
    INSERT INTO timers (shard, run_id, kind, id, due_at)
    SELECT * FROM unnest($50::integer[], $51::text[], $52::text[], $53::text[], $54::bigint[]) AS t(shard, run_id, kind, id, due_at)
     WHERE t.run_id IN (SELECT run_id FROM claimed)
    ON CONFLICT DO NOTHING
  ), kp AS (
    INSERT INTO tasks (shard, run_id, activity_id, namespace, task_queue, attempt)
    SELECT * FROM unnest($55::integer[], $56::text[], $57::text[], $58::text[], $59::text[], $60::integer[])
           AS k(shard, run_id, activity_id, namespace, task_queue, attempt)
     WHERE k.run_id IN (SELECT run_id FROM claimed)
    ON CONFLICT (shard, run_id, activity_id) DO UPDATE SET namespace = EXCLUDED.namespace, task_queue = EXCLUDED.task_queue, attempt = EXCLUDED.attempt
  )
  SELECT shard, owner, epoch, NULL::text AS run_id FROM fence
  UNION ALL SELECT NULL, NULL, NULL, run_id FROM claimed`;

/** `$4`–`$29`: the run rows of the new runs (inserted), then of the others (updated where their history ends). */
function claimValues(commits: CommitRows[]): unknown[] {
  const fresh = commits.filter((c) => c.isNew);
  const next = commits.filter((c) => !c.isNew);
  const columns = (list: CommitRows[]) => [
    list.map((c) => c.shard), list.map((c) => c.runId), list.map((c) => c.run.namespace), list.map((c) => c.run.workflowId),
    list.map((c) => c.run.type), list.map((c) => c.run.version), list.map((c) => c.run.status), list.map((c) => c.run.startedAt),
    list.map((c) => c.run.closedAt), list.map((c) => c.run.lastSeq), list.map((c) => c.run.searchAttributes), list.map((c) => c.run.record),
  ];
  return [...columns(fresh), ...columns(next), next.map((c) => c.previousLastSeq), next.map((c) => c.previousStatus ?? null)];
}

/**
 * `$30`–`$60`: everything else the commits write, of which the statement keeps the claimed
 * runs'. Its parts touch disjoint rows (commit-rows.ts nets each commit's deletes against its
 * puts, and no two commits of a batch share a run), so the order PostgreSQL runs them in does not
 * matter. A pointer shared by two new runs of one batch keeps the last one's, as successive
 * LevelDB puts would.
 */
function rowValues(commits: CommitRows[]): unknown[] {
  const timerDeletes = commits.flatMap((c) => c.timerDeletes.map((t) => ({ shard: c.shard, ...t })));
  const taskDeletes = commits.flatMap((c) => c.taskDeletes.map((t) => ({ shard: c.shard, runId: c.runId, activityId: t.activityId })));
  const events = commits.flatMap((c) => c.events.map((e) => ({ shard: c.shard, runId: c.runId, ...e })));
  const pointers = lastByKey(commits.filter((c) => c.isNew), (c) => JSON.stringify([c.shard, c.run.namespace, c.run.workflowId]));
  const keys = lastByKey(commits.filter((c) => c.isNew && c.idempotencyKey !== undefined), (c) => JSON.stringify([c.run.namespace, c.idempotencyKey]));
  const timerPuts = commits.flatMap((c) => c.timerPuts.map((t) => ({ shard: c.shard, ...t })));
  const taskPuts = commits.flatMap((c) => c.taskPuts.map((t) => ({ shard: c.shard, ...t })));
  return [
    timerDeletes.map((t) => t.shard), timerDeletes.map((t) => t.runId), timerDeletes.map((t) => t.kind), timerDeletes.map((t) => t.id), timerDeletes.map((t) => t.dueAt),
    taskDeletes.map((t) => t.shard), taskDeletes.map((t) => t.runId), taskDeletes.map((t) => t.activityId),
    events.map((e) => e.shard), events.map((e) => e.runId), events.map((e) => e.seq), events.map((e) => e.sealed),
    pointers.map((c) => c.shard), pointers.map((c) => c.run.namespace), pointers.map((c) => c.run.workflowId), pointers.map((c) => c.runId),
    keys.map((c) => c.run.namespace), keys.map((c) => c.idempotencyKey!), keys.map((c) => c.shard), keys.map((c) => c.runId),
    timerPuts.map((t) => t.shard), timerPuts.map((t) => t.runId), timerPuts.map((t) => t.kind), timerPuts.map((t) => t.id), timerPuts.map((t) => t.dueAt),
    taskPuts.map((t) => t.shard), taskPuts.map((t) => t.runId), taskPuts.map((t) => t.activityId), taskPuts.map((t) => t.namespace),
    taskPuts.map((t) => t.taskQueue), taskPuts.map((t) => t.attempt),
  ];
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
