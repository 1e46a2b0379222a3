import type { HistoryEvent } from '../../common/history.ts';
import type { DecideContext } from './decide.ts';
import { eventBytes } from './run-state.ts';

/**
 * What `decide` needs to know of a history read from the start — the activities, timers and
 * children outstanding and the history's size so far — for code that steps a history through
 * a machine outside the engine (replay, the UI's state path). The engine keeps the same in the
 * run record (run-state.ts).
 */
export class ReplayTracker {
  readonly activities = new Set<string>();
  readonly timers = new Set<string>();
  readonly children = new Set<string>();
  length = 0;
  bytes = 0;

  constructor(private readonly workflowId: string) {}

  /** The context for delivering `event`: everything tracked before it. */
  contextFor(event: HistoryEvent): DecideContext {
    return {
      seq: event.seq, at: event.at, workflowId: this.workflowId,
      activities: this.activities, timers: this.timers, children: this.children,
      history: { length: this.length, bytes: this.bytes },
    };
  }

  track(e: HistoryEvent): void {
    this.length = e.seq;
    this.bytes += eventBytes(e);
    switch (e.kind) {
      case 'ActivityScheduled': this.activities.add(e.activityId); break;
      case 'ActivityCompleted': case 'ActivityFailed': case 'ActivityCancelRequested': this.activities.delete(e.activityId); break;
      case 'TimerStarted': this.timers.add(e.timerId); break;
      case 'TimerFired': case 'TimerCanceled': this.timers.delete(e.timerId); break;
      case 'ChildWorkflowScheduled': this.children.add(e.childId); break;
      case 'ChildWorkflowCompleted': case 'ChildWorkflowFailed': case 'ChildWorkflowCancelRequested': this.children.delete(e.childId); break;
      case 'WorkflowTerminated': this.activities.clear(); this.timers.clear(); this.children.clear(); break;
      default: break;
    }
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
