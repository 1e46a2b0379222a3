import { InvalidArgumentError } from '../../common/errors.ts';
import { COMMAND_KINDS, DELIVERED_KINDS, type HistoryEvent } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import type { RunRecord } from '../../common/run-model.ts';
import { replayHistory, type Divergence } from './replay.ts';
import { foldEvents } from './run-state.ts';
import { searchAttributesAfter } from './search-attributes.ts';
import type { RunCommit } from '../../store/store.ts';

/**
 * Plans a reset (Temporal's reset): a new run of the same workflow id whose history is the old
 * run's history up to and including the step of event #`eventSeq` — the delivered event and the
 * commands it produced — followed by a WorkflowReset record. Replaying that prefix through the
 * machine gives the new run's snapshot; activities and timers pending at that point are pending
 * again (an activity that had completed later runs again: at-least-once, as after a crash).
 * Pure: the new run's own execution commits the plan (ExecutionCache.createFrom), as every commit
 * of a run is made (engine/runtime/run-actor.ts).
 */
export function planReset(definition: WorkflowDefinition, from: RunRecord, history: readonly HistoryEvent[], options: {
  eventSeq: number; reason: string; newRunId: string; now: number;
}): { commit: RunCommit } | { divergence: Divergence } {
  const { eventSeq } = options;
  const target = history[eventSeq - 1];
  if (!Number.isInteger(eventSeq) || !target || target.seq !== eventSeq) {
    throw new InvalidArgumentError(`eventSeq must name an event of run ${from.runId} (1–${history.length}), got ${eventSeq}`);
  }
  if (!DELIVERED_KINDS.has(target.kind)) {
    const steps = history.filter((e) => DELIVERED_KINDS.has(e.kind)).map((e) => `#${e.seq} ${e.kind}`);
    throw new InvalidArgumentError(`event #${eventSeq} (${target.kind}) is not an event the machine took; reset to one that is: ${steps.slice(-10).join(', ')}`);
  }
  // The step ends with the commands recorded with the event (same time, right after it).
  let end = eventSeq;
  while (end < history.length && COMMAND_KINDS.has(history[end]!.kind) && history[end]!.at === target.at) end++;
  const prefix = history.slice(0, end);
  if (prefix.some((e) => e.kind === 'WorkflowCompleted' || e.kind === 'WorkflowFailed' || e.kind === 'WorkflowCanceled')) {
    throw new InvalidArgumentError(`the step of event #${eventSeq} closes the run; reset to an earlier event`);
  }
  const replay = replayHistory(definition, prefix);
  if (!replay.ok) return { divergence: replay.divergence! };

  const events: HistoryEvent[] = [
    ...prefix.map((e) => ({ ...e })),
    { kind: 'WorkflowReset', fromRunId: from.runId, eventSeq, reason: options.reason, seq: end + 1, at: options.now },
  ];
  const fresh: RunRecord = {
    runId: options.newRunId, namespace: from.namespace, workflowId: from.workflowId, type: from.type, version: from.version,
    status: 'running', startedAt: options.now, lastSeq: 0, snapshot: null, activities: {}, timers: {},
  };
  const { run, timers, tasks } = foldEvents(fresh, events);
  run.snapshot = JSON.stringify(replay.snapshot);
  const searchAttributes = searchAttributesAfter(definition, replay.snapshot as { context?: unknown } | undefined);
  if (searchAttributes) run.searchAttributes = searchAttributes;
  return { commit: { run, previousLastSeq: 0, events, timers, tasks } };
}
