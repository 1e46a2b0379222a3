import type { ClassicLevel } from 'classic-level';
import { decode, encode } from '../common/codec.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { CLOSED_STATUSES } from '../common/history.ts';
import type { BatchOperation } from './group-commit.ts';
import { keys, prefixRange } from './keys.ts';
import { decodeRunRecord } from './run-record.ts';
import type { ClosedRunRef } from './store.ts';
import type { RunRecord } from '../common/run-model.ts';

type Db = ClassicLevel<string, Buffer>;

const EMPTY = Buffer.alloc(0);

/**
 * The close-time index entry of a run that closes in this commit (`closed/<ns>/<closedAt>/<runId>`),
 * or none. Written with the listing entries, in the same atomic commit that closes the run, so
 * the index never misses a closed run and never names an open one. A closed run never reopens
 * (a reset makes a new run), so an entry is removed only with its run.
 */
export function closeIndexPut(run: RunRecord): BatchOperation | undefined {
  if (!CLOSED_STATUSES.has(run.status) || run.closedAt === undefined) return undefined;
  return { type: 'put', key: keys.closed(run.namespace, run.closedAt, run.runId), value: EMPTY };
}

/**
 * Closed runs of `namespace` closed before `closedBefore`, oldest first: one range read of the
 * close-time index, costing the rows returned and nothing for the runs that are not expired.
 */
export async function listClosedRuns(db: Db, namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef }): Promise<ClosedRunRef[]> {
  const { closedBefore, limit, after } = options ?? ({} as never);
  if (typeof closedBefore !== 'number' || Number.isNaN(closedBefore)) throw new InvalidArgumentError(`closedBefore must be a time in ms, got ${closedBefore}.`);
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}.`);
  const lt = keys.closedBound(namespace, closedBefore);
  const range = after ? { gt: keys.closed(namespace, after.closedAt, after.runId), lt } : { gte: keys.closedPrefix(namespace), lt };
  // One shard: a LevelDB store is a cluster of one node.
  return (await db.keys({ ...range, limit }).all()).map((key) => ({ ...keys.closedEntry(key), shard: 0 }));
}

/**
 * Every key of a closed run that is the run's alone: its history, record, listing entries,
 * close-time entry, and any task or timer entry its record still names. Computed from the record
 * without a read: the history is exactly events 1..lastSeq (the store's invariant), and the task
 * and timer indexes change in the same commits as the record's `activities` and `timers`.
 * (Measured: scanning the history and task prefixes instead made a sweep 3x slower.) The
 * pointers shared with other runs are decided by {@link pointerDeletions}.
 */
export function runDeletions(run: RunRecord): BatchOperation[] {
  const del = (key: string): BatchOperation => ({ type: 'del', key });
  const operations: BatchOperation[] = [];
  for (let seq = 1; seq <= run.lastSeq; seq++) operations.push(del(keys.hist(run.runId, seq)));
  for (const activityId of Object.keys(run.activities ?? {})) operations.push(del(keys.task(run.runId, activityId)));
  for (const timer of Object.values(run.timers ?? {})) {
    operations.push(del(keys.timer({ dueAt: timer.dueAt, runId: run.runId, kind: 'timer', id: timer.timerId })));
  }
  operations.push(...keys.vis(run).map(del));
  if (run.closedAt !== undefined) operations.push(del(keys.closed(run.namespace, run.closedAt, run.runId)));
  operations.push(del(keys.run(run.runId)));
  return operations;
}

/**
 * Deletes of the workflow id's current-run pointer and the idempotency key, for each that still
 * points at `run` and has no put in flight (`holds`).
 *
 * Invariant: call this and submit its result in one synchronous step. A start of the same
 * workflow id holds its pointer keys from just before it submits until its batch is durable, and
 * batches are written in submission order. So either the start's put is durable (the pointer no
 * longer names this run), or in flight (held), or not yet submitted (it lands after this delete):
 * in no case is a new run's pointer deleted.
 */
export function pointerDeletions(db: Db, run: RunRecord, holds: PointerHolds): BatchOperation[] {
  const pointers = [keys.exec(run.namespace, run.workflowId)];
  if (run.idempotencyKey !== undefined) pointers.push(keys.idem(run.namespace, run.idempotencyKey));
  const operations: BatchOperation[] = [];
  for (const key of pointers) {
    if (holds.held(key)) continue;
    const stored = db.getSync(key);
    if (stored !== undefined && pointsAt(stored, run.runId)) operations.push({ type: 'del', key });
  }
  return operations;
}

function pointsAt(stored: Buffer, runId: string): boolean {
  try {
    return decode(stored) === runId;
  } catch {
    return false; // a damaged pointer is not ours to judge here: leave it
  }
}

/**
 * Pointer keys (`exec/…`, `idem/…`) with a put submitted and not yet durable, counted, so a
 * retention delete never removes a pointer a concurrent start is writing.
 */
export class PointerHolds {
  private readonly counts = new Map<string, number>();

  /** Holds `keysHeld` until the returned release is called (once). */
  hold(keysHeld: readonly string[]): () => void {
    for (const key of keysHeld) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const key of keysHeld) {
        const left = (this.counts.get(key) ?? 1) - 1;
        if (left > 0) this.counts.set(key, left);
        else this.counts.delete(key);
      }
    };
  }

  held(key: string): boolean {
    return this.counts.has(key);
  }
}

/** The pointer keys a run's first commit writes. */
export function pointerKeysOf(run: RunRecord): string[] {
  return run.idempotencyKey === undefined
    ? [keys.exec(run.namespace, run.workflowId)]
    : [keys.exec(run.namespace, run.workflowId), keys.idem(run.namespace, run.idempotencyKey)];
}

const INDEX_BUILT = 'close-index-v1';
const BACKFILL_CHUNK = 500;

/**
 * Builds the close-time index for runs closed before the store had one (a data directory made by
 * an older Perdure), once: a scan of every run record, done on the first open that lacks the
 * marker, then never again. A fresh store has no runs, so this costs it one read.
 */
export async function backfillCloseIndex(db: Db): Promise<void> {
  if (db.getSync(keys.meta(INDEX_BUILT)) !== undefined) return;
  const iterator = db.values(prefixRange(keys.run(''))); // 'run/': every run record
  try {
    for (;;) {
      const values = await iterator.nextv(BACKFILL_CHUNK);
      if (values.length === 0) break;
      const operations: BatchOperation[] = [];
      for (const value of values) {
        let run: RunRecord;
        try {
          run = decodeRunRecord(value, '(backfill)');
        } catch {
          continue; // reported when the run is read; the index just leaves it out
        }
        const put = run && closeIndexPut(run);
        if (put) operations.push(put);
      }
      if (operations.length > 0) await db.batch(operations, { sync: true });
    }
  } finally {
    await iterator.close();
  }
  await db.put(keys.meta(INDEX_BUILT), encode(Date.now()), { sync: true });
}
