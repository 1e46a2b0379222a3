import type { AnyMachineSnapshot } from 'xstate';
import { DELIVERED_KINDS, type HistoryEvent } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import { decide, toMachineEvent, type DeliveredEvent } from '../../engine/core/decide.ts';
import { historyWorkflowId, lastMigrationIndex, ReplayTracker } from '../../engine/core/replay-tracker.ts';
import { resolveMachineState } from '../../engine/core/machine-step.ts';

/** The machine's state after one delivered history event. */
export interface PathStep {
  /** seq of the delivered event. */
  seq: number;
  /** Its server time. */
  at: number;
  /** The XState event type the machine received (`xstate.init` for the start). */
  event: string;
  /** The state value after it. */
  value: unknown;
}

/** Where a path computation stopped, so that a longer history continues from there. */
export interface PathCursor {
  runId: string;
  /** seq of the last history event consumed. */
  lastSeq: number;
  snapshot: AnyMachineSnapshot | undefined;
  tracker: ReplayTracker;
  steps: PathStep[];
  /** seq of an event the machine could not take (a changed machine): the path ends before it. */
  stoppedAt?: number;
}

/**
 * The path an execution took: its state value after each delivered event, found by stepping the
 * history through the machine with the engine's own pure `decide` (the same steps replay makes).
 * Exact where a guess from the diagram would not be: guards and `assign` are evaluated.
 *
 * Pass the cursor of an earlier call on the same run to go on from where it stopped (the
 * history is append-only), so a live execution page pays only for new events.
 *
 * @example
 * const cursor = statePath(definition, await engine.history({ workflowId }), undefined, runId);
 * cursor.steps.at(-1)?.value; // 'approved'
 */
export function statePath(definition: WorkflowDefinition, history: readonly HistoryEvent[], from: PathCursor | undefined, runId: string): PathCursor {
  const cursor: PathCursor = from && from.runId === runId
    ? from
    : { runId, lastSeq: 0, snapshot: undefined, tracker: new ReplayTracker(historyWorkflowId(history)), steps: [] };
  const lastMigration = history[lastMigrationIndex(history)]?.seq ?? 0;
  for (const event of history) {
    if (cursor.stoppedAt !== undefined) break;
    if (event.seq <= cursor.lastSeq) continue;
    cursor.lastSeq = event.seq;
    if (event.seq < lastMigration) {
      cursor.tracker.track(event);
      continue;
    }
    if (event.kind === 'WorkflowMigrated') {
      // The machine events before a migration belong to the old version: the path restarts here.
      try {
        cursor.snapshot = resolveMachineState(definition.machine, event);
      } catch {
        cursor.stoppedAt = event.seq;
        break;
      }
      cursor.tracker.track(event);
      cursor.steps = [{ seq: event.seq, at: event.at, event: 'perdure.migrated', value: cursor.snapshot.value }];
      continue;
    }
    if (!DELIVERED_KINDS.has(event.kind)) {
      cursor.tracker.track(event);
      continue;
    }
    const delivered = event as DeliveredEvent & HistoryEvent;
    try {
      const decision = decide(definition, cursor.snapshot, delivered, cursor.tracker.contextFor(event));
      cursor.snapshot = decision.snapshot;
    } catch {
      // A history this machine cannot step (a changed machine: replay reports it) ends the path.
      cursor.stoppedAt = event.seq;
      break;
    }
    cursor.tracker.track(event);
    cursor.steps.push({ seq: event.seq, at: event.at, event: toMachineEvent(delivered, event.at).type, value: cursor.snapshot.value });
  }
  return cursor;
}
