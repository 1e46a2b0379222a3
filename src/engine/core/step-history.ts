import type { AnyMachineSnapshot } from 'xstate';
import { DELIVERED_KINDS, type HistoryEvent } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import { decide, toMachineEvent, type Decision, type DeliveredEvent } from './decide.ts';
import { resolveMachineState } from './machine-step.ts';
import { historyWorkflowId, lastMigrationIndex, ReplayTracker } from './replay-tracker.ts';

/** Where a walk through a history stands: the machine's snapshot and the history folded so far. */
export interface HistoryPosition {
  snapshot: AnyMachineSnapshot | undefined;
  tracker: ReplayTracker;
}

/** What one history event did, as `stepHistory` took it. */
export type HistoryStep =
  /** Before the run's last migration: that part belongs to the old version, so it is only folded. */
  | { kind: 'superseded'; event: HistoryEvent }
  /** Not delivered to the machine (a command, a retry scheduled, a child started…): folded. */
  | { kind: 'recorded'; event: HistoryEvent }
  /** The run's last migration: the machine is put in the state it names. */
  | { kind: 'migrated'; event: Extract<HistoryEvent, { kind: 'WorkflowMigrated' }>; snapshot: AnyMachineSnapshot }
  /** Delivered to the machine: `decision` is what `decide` made of it, as the engine did. */
  | { kind: 'delivered'; event: DeliveredEvent & HistoryEvent; decision: Decision; readonly machineEvent: string }
  /**
   * The machine cannot take this event (a changed machine): a migration to a state it lacks, or a
   * step that threw. The walk ends here, before the event is folded.
   */
  | { kind: 'stopped'; event: HistoryEvent; error: Error };

/** The position before a history's first event. */
export function historyStart(history: readonly HistoryEvent[]): HistoryPosition {
  return { snapshot: undefined, tracker: new ReplayTracker(historyWorkflowId(history)) };
}

/**
 * Steps a history through a machine with the engine's own pure `decide`, one event at a time —
 * the one walk that replay (and reset, which replays the prefix it keeps) and the UI's state path
 * make. It checks nothing against the history: what a step must agree with is the caller's
 * concern (replay compares the commands; the state path only shows the states).
 *
 * `position` is advanced as the walk goes, so a caller that kept it can go on with the events
 * recorded since (the history is append-only). Stop iterating at any time.
 *
 * @example
 * for (const step of stepHistory(orderWorkflow, history)) {
 *   if (step.kind === 'delivered') console.log(step.event.seq, step.decision.snapshot.value);
 * }
 */
export function* stepHistory(definition: WorkflowDefinition, history: readonly HistoryEvent[], position: HistoryPosition = historyStart(history)): Generator<HistoryStep, void, undefined> {
  // A migrated run is stepped from its last migration: the machine events before it belong to
  // the old version; only what they left pending is folded.
  const migratedAt = lastMigrationIndex(history);
  for (let i = 0; i < history.length; i++) {
    const event = history[i]!;
    if (i < migratedAt) {
      position.tracker.track(event);
      yield { kind: 'superseded', event };
      continue;
    }
    if (event.kind === 'WorkflowMigrated') {
      let snapshot: AnyMachineSnapshot;
      try {
        snapshot = resolveMachineState(definition.machine, event);
      } catch (error) {
        yield { kind: 'stopped', event, error: error as Error };
        return;
      }
      position.snapshot = snapshot;
      position.tracker.track(event);
      yield { kind: 'migrated', event, snapshot };
      continue;
    }
    if (!DELIVERED_KINDS.has(event.kind)) {
      position.tracker.track(event);
      yield { kind: 'recorded', event };
      continue;
    }
    const delivered = event as DeliveredEvent & HistoryEvent;
    let decision: Decision;
    try {
      decision = decide(definition, position.snapshot, delivered, position.tracker.contextFor(event));
    } catch (error) {
      yield { kind: 'stopped', event, error: error as Error };
      return;
    }
    position.snapshot = decision.snapshot;
    position.tracker.track(event);
    // The machine event's type is asked for by the state path only; building the event (a
    // failure rebuilt as an Error) is left until then.
    yield { kind: 'delivered', event: delivered, decision, get machineEvent() { return toMachineEvent(delivered, event.at).type; } };
  }
}
