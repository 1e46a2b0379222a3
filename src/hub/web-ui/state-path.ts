import type { HistoryEvent } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import { historyStart, stepHistory, type HistoryPosition } from '../../engine/core/step-history.ts';

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
  /** Where the walk through the history stands (stepHistory goes on from it). */
  position: HistoryPosition;
  steps: PathStep[];
  /** seq of an event the machine could not take (a changed machine): the path ends before it. */
  stoppedAt?: number;
}

/**
 * The path an execution took: its state value after each delivered event, found by stepping the
 * history through the machine with the engine's own `stepHistory` (the same walk replay makes).
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
    : { runId, lastSeq: 0, position: historyStart(history), steps: [] };
  if (cursor.stoppedAt !== undefined) return cursor;
  const unseen = history.filter((event) => event.seq > cursor.lastSeq);
  for (const step of stepHistory(definition, unseen, cursor.position)) {
    const { seq, at } = step.event;
    cursor.lastSeq = seq;
    switch (step.kind) {
      case 'stopped':
        // A history this machine cannot step (a changed machine: replay reports it) ends the path.
        cursor.stoppedAt = seq;
        break;
      case 'migrated':
        // The machine events before a migration belong to the old version: the path restarts here.
        cursor.steps = [{ seq, at, event: 'perdure.migrated', value: step.snapshot.value }];
        break;
      case 'delivered':
        cursor.steps.push({ seq, at, event: step.machineEvent, value: step.decision.snapshot.value });
        break;
      default:
        break;
    }
  }
  return cursor;
}
