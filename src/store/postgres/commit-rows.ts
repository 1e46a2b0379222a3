import { CodecError, encode } from '../../common/codec.ts';
import { InvalidArgumentError } from '../../common/errors.ts';
import type { ExecutionStatus } from '../../common/history.ts';
import { seal } from '../checksum.ts';
import { shardOf } from '../shard-hash.ts';
import type { RunCommit, TaskEntry, TimerEntry } from '../store.ts';

/**
 * One run's commit as the rows it writes, encoded before it joins a batch: a value that cannot
 * be encoded refuses that commit alone (INVALID_ARGUMENT), never the batch it would have joined.
 */
export interface CommitRows {
  shard: number;
  runId: string;
  /** The first commit of the run: its row is inserted (and must not exist yet), its pointers written. */
  isNew: boolean;
  previousLastSeq: number;
  previousStatus: ExecutionStatus | undefined;
  run: {
    namespace: string; workflowId: string; type: string; version: string; status: string;
    startedAt: number; closedAt: number | null; lastSeq: number; searchAttributes: string | null; record: Buffer;
  };
  idempotencyKey: string | undefined;
  events: Array<{ seq: number; sealed: Buffer }>;
  /** Net of the puts: an entry both deleted and put by one commit is simply put (deletes apply first). */
  timerDeletes: TimerEntry[];
  timerPuts: TimerEntry[];
  taskDeletes: Array<{ activityId: string }>;
  /** At most one per activity id, the last one given. */
  taskPuts: TaskEntry[];
}

/** Encodes a checked commit (validate-commit.ts ran first) into its rows. */
export function commitRows(commit: RunCommit, shardCount: number): CommitRows {
  const { run } = commit;
  try {
    const attributes = run.searchAttributes && Object.keys(run.searchAttributes).length > 0 ? JSON.stringify(run.searchAttributes) : null;
    const timerKey = (t: TimerEntry) => JSON.stringify([t.dueAt, t.kind, t.id]);
    // A commit names only its own run's entries: they live in its run's shard, beside its row.
    for (const entry of [...commit.timers?.put ?? [], ...commit.timers?.delete ?? [], ...commit.tasks?.put ?? [], ...commit.tasks?.delete ?? []]) {
      if (entry?.runId !== run.runId) throw new InvalidArgumentError(`commit of run "${run.runId}" refused: it carries a timer or task entry of run ${JSON.stringify(entry?.runId)}.`);
    }
    const timerPuts = dedupe(commit.timers?.put ?? [], timerKey);
    const putTimerKeys = new Set(timerPuts.map(timerKey));
    const taskPuts = dedupe(commit.tasks?.put ?? [], (t) => t.activityId);
    const putTaskKeys = new Set(taskPuts.map((t) => t.activityId));
    return {
      shard: shardOf(run.namespace, run.workflowId, shardCount),
      runId: run.runId,
      isNew: commit.previousLastSeq === 0,
      previousLastSeq: commit.previousLastSeq,
      previousStatus: commit.previousStatus,
      run: {
        namespace: run.namespace, workflowId: run.workflowId, type: String(run.type), version: String(run.version), status: String(run.status),
        startedAt: run.startedAt, closedAt: run.closedAt ?? null, lastSeq: run.lastSeq, searchAttributes: attributes, record: encode(run),
      },
      idempotencyKey: run.idempotencyKey,
      events: commit.events.map((event) => ({ seq: event.seq, sealed: seal(encode(event)) })),
      timerDeletes: dedupe(commit.timers?.delete ?? [], timerKey).filter((t) => !putTimerKeys.has(timerKey(t))),
      timerPuts,
      taskDeletes: dedupe(commit.tasks?.delete ?? [], (t) => t.activityId).filter((t) => !putTaskKeys.has(t.activityId)),
      taskPuts,
    };
  } catch (error) {
    if (error instanceof CodecError) throw new InvalidArgumentError(`commit of run "${run.runId}" refused: ${error.message}`);
    throw error;
  }
}

/** The last of each key, in the order of first appearance. */
function dedupe<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(keyOf(item), item);
  return [...byKey.values()];
}
