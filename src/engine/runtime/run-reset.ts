import { randomUUID } from 'node:crypto';
import { ExecutionAlreadyStartedError, NonDeterminismError, VersionMissingError } from '../../common/errors.ts';
import { CLOSED_STATUSES } from '../../common/history.ts';
import type { Clock } from '../../common/clock.ts';
import type { RunStore } from '../../store/store.ts';
import type { ExecutionRef } from '../api.ts';
import type { WorkflowRegistry } from '../core/registry.ts';
import { planReset } from '../core/reset.ts';
import type { ShardRuntime } from './shard-runtime.ts';

export interface ResetOptions {
  /** The event whose state the new run starts from. */
  eventSeq: number;
  /** Recorded on both runs. Default: `reset to event #<eventSeq>`. */
  reason?: string;
}

/**
 * Resets an execution of `shard` to the state after its event #`eventSeq` (like Temporal's
 * reset): the current run is terminated (if open) with a reason naming the new run, and a new
 * run of the same workflow id starts from that state — its history repeats the old one up to
 * that step, then records WorkflowReset. Answers the new run's id.
 */
export async function resetRun(
  shard: ShardRuntime,
  context: { store: Pick<RunStore, 'readHistory'>; registry: WorkflowRegistry; clock: Clock },
  ref: ExecutionRef,
  options: ResetOptions,
): Promise<{ runId: string }> {
  const runId = await shard.runs.runIdOf(ref);
  const from = (await shard.executions.record(runId))!;
  const definition = context.registry.get(from.type, from.version);
  if (!definition) throw new VersionMissingError(from.workflowId, from.type, from.version);
  const history = await context.store.readHistory(runId);
  const newRunId = randomUUID();
  const reason = options.reason ?? `reset to event #${options.eventSeq}`;
  const plan = planReset(definition, from, history, { eventSeq: options.eventSeq, reason, newRunId, now: context.clock.now() });
  if ('divergence' in plan) {
    const d = plan.divergence;
    throw new NonDeterminismError(from.workflowId, d.seq, d.expected, d.actual, definition.type, definition.version);
  }
  // Terminate first: two open runs of one workflow id must never exist. A crash between the
  // two commits leaves the old run terminated and no new one: nothing half-applied. Both run
  // in the workflow id's start queue, so no start can come between them.
  await shard.starter.serialised(from.namespace, from.workflowId, async () => {
    // The plan was made from `from`: a start that got in first would make it stale.
    if ((await shard.runs.runIdOf(ref)) !== from.runId) {
      throw new ExecutionAlreadyStartedError(from.namespace, from.workflowId, await shard.runs.runIdOf(ref));
    }
    if (!CLOSED_STATUSES.has(from.status)) await (await shard.runs.open(ref)).terminate(`${reason} (new run ${newRunId})`);
    // Close the old run's children now, not later through the outbox: the new run starts its
    // children again under the same workflow ids, which must be free by then.
    await shard.outbox.drainCloseChild(from.runId);
    // The new run is made by its own execution, as every commit of a run is (run-actor.ts).
    await shard.executions.createFrom(plan.commit, definition);
  });
  const execution = await shard.executions.load(newRunId);
  // Its activities are dispatched, its timers armed, and children pending at the reset point
  // started again (their start is an outbox item).
  if (execution) shard.arm(execution);
  return { runId: newRunId };
}
