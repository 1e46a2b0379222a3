import { InvalidArgumentError } from '../../common/errors.ts';
import { CLOSED_STATUSES } from '../../common/history.ts';
import type { ClosedRunRef } from '../store.ts';
import type { RunRecord } from '../../common/run-model.ts';
import { inFencedTransaction, type StoreContext } from './store-context.ts';

const CLOSED = [...CLOSED_STATUSES];

/**
 * Retention on PostgreSQL: closed runs of a namespace closed before a time, oldest first, from
 * the partial index `runs_closed` (a sweep reads only expired runs), continuing after `after`.
 *
 * @example
 * await listClosedRunsOn(context, 'default', { closedBefore: Date.now() - retention, limit: 100 })
 */
export async function listClosedRunsOn(
  context: StoreContext, namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef },
): Promise<ClosedRunRef[]> {
  const { closedBefore, limit, after } = options ?? ({} as never);
  if (typeof closedBefore !== 'number' || Number.isNaN(closedBefore)) throw new InvalidArgumentError(`closedBefore must be a time in ms, got ${closedBefore}.`);
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}.`);
  const { rows } = await context.pool.query<{ run_id: string; closed_at: string; shard: number }>(
    `SELECT run_id, closed_at, shard FROM runs
      WHERE namespace = $1 AND closed_at IS NOT NULL AND closed_at < $2 AND status = ANY($3::text[])
        AND ($4::bigint IS NULL OR (closed_at, run_id) > ($4, $5))
      ORDER BY closed_at, run_id LIMIT $6`,
    [namespace, Math.ceil(Math.min(closedBefore, Number.MAX_SAFE_INTEGER)), CLOSED, after?.closedAt ?? null, after?.runId ?? null, limit],
  );
  return rows.map((row) => ({ runId: row.run_id, closedAt: Number(row.closed_at), shard: row.shard }));
}

/**
 * Deletes a closed run (its caller has read `run` in the run's commit order, so no commit of
 * it is in flight) with everything that is its alone, in one fenced transaction. Its workflow
 * id's pointer and its idempotency key go only while they still name this run: a new run of
 * the same workflow id, started meanwhile, updated the pointer in its own transaction, and the
 * DELETE's `run_id = $` re-checked after waiting for that row's lock keeps it.
 * Answers false when the run changed or vanished since it was read.
 */
export async function deleteRunOn(context: StoreContext, run: RunRecord, shard: number): Promise<boolean> {
  return inFencedTransaction(context, [shard], async (client) => {
    const { rows } = await client.query<{ deleted: boolean }>(
      `WITH r AS (
         DELETE FROM runs WHERE shard = $1 AND run_id = $2 AND last_seq = $3 RETURNING run_id
       ), h AS (
         DELETE FROM history WHERE shard = $1 AND run_id = $2 AND EXISTS (SELECT 1 FROM r)
       ), t AS (
         DELETE FROM timers WHERE shard = $1 AND run_id = $2 AND EXISTS (SELECT 1 FROM r)
       ), k AS (
         DELETE FROM tasks WHERE shard = $1 AND run_id = $2 AND EXISTS (SELECT 1 FROM r)
       ), e AS (
         DELETE FROM executions WHERE shard = $1 AND namespace = $4 AND workflow_id = $5 AND run_id = $2 AND EXISTS (SELECT 1 FROM r)
       ), i AS (
         DELETE FROM idempotency_keys WHERE namespace = $4 AND idem_key = $6 AND run_id = $2 AND EXISTS (SELECT 1 FROM r)
       )
       SELECT EXISTS (SELECT 1 FROM r) AS deleted`,
      [shard, run.runId, run.lastSeq, run.namespace, run.workflowId, run.idempotencyKey ?? null],
    );
    return rows[0]?.deleted === true;
  });
}
