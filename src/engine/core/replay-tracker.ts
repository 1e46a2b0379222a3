import type { HistoryEvent } from '../../common/history.ts';
import type { RunRecord } from '../../common/run-model.ts';
import type { DecideContext } from './decide.ts';
import { decideContext, foldInto } from './run-state.ts';

/**
 * What `decide` needs to know of a history read from the start — the activities, timers and
 * children outstanding and the history's size so far — for code that steps a history through
 * a machine outside the engine (stepHistory: replay, reset, the UI's state path).
 *
 * It holds a run record folded by the engine's own fold (run-state.ts), and builds the context
 * as the engine does: a second, hand-kept fold would drift from the engine's (issue 13).
 */
export class ReplayTracker {
  /** The run as the events tracked so far make it; only its pending work and size are read. */
  readonly run: RunRecord;

  constructor(workflowId: string) {
    // Ids and times the history does not give are left empty: decide reads none of them.
    this.run = {
      runId: '', namespace: '', workflowId, type: '', version: '', status: 'running', startedAt: 0,
      lastSeq: 0, snapshot: null, activities: {}, timers: {}, children: {}, outbox: {},
    };
  }

  /** The context for delivering `event`: everything tracked before it. */
  contextFor(event: HistoryEvent): DecideContext {
    return decideContext(this.run, event.seq, event.at);
  }

  track(e: HistoryEvent): void {
    foldInto(this.run, e);
  }
}

/** The workflow id a history belongs to, from its WorkflowStarted event. */
export function historyWorkflowId(history: readonly HistoryEvent[]): string {
  const first = history[0];
  return first?.kind === 'WorkflowStarted' ? first.workflowId : '?';
}

/** Index of a history's last WorkflowMigrated event, or -1: replay of a migrated run starts there. */
export function lastMigrationIndex(history: readonly HistoryEvent[]): number {
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.kind === 'WorkflowMigrated') return i;
  return -1;
}
