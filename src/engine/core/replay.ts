import { isDeepStrictEqual } from 'node:util';
import type { AnyMachineSnapshot } from 'xstate';
import { NonDeterminismError } from '../../common/errors.ts';
import type { FailureInfo } from '../../common/failures.ts';
import { COMMAND_KINDS, DELIVERED_KINDS, type HistoryEvent, type HistoryEventBody } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import { decide, type CommandEvent, type DeliveredEvent } from './decide.ts';
import { persistSnapshot, resolveMachineState, snapshotValue } from './machine-step.ts';
import { historyWorkflowId, lastMigrationIndex, ReplayTracker } from './replay-tracker.ts';

export interface Divergence {
  /** seq of the first history event that the machine no longer agrees with. */
  seq: number;
  /** What the history says happened there. */
  expected: string;
  /** What the machine produces now. */
  actual: string;
}

export interface ReplayResult {
  ok: boolean;
  divergence?: Divergence;
  /** The snapshot the replay ended in (as a plain object). */
  snapshot: unknown;
  /** Delivered events replayed. */
  eventsReplayed: number;
}

/**
 * Replays a history through a machine from the start, exactly as the engine ran it, and reports
 * the first divergence: a command the machine no longer produces (or produces differently), or,
 * with `storedSnapshot`, an end state different from the stored one. Use it in CI to learn
 * before a deploy that a changed machine would break running executions.
 *
 * @example
 * const result = replayHistory(orderWorkflow, await engine.history({ workflowId: 'o-1' }));
 * if (!result.ok) console.error(result.divergence);
 */
export function replayHistory(definition: WorkflowDefinition, history: readonly HistoryEvent[], options: { storedSnapshot?: unknown } = {}): ReplayResult {
  let snapshot: AnyMachineSnapshot | undefined;
  const tracker = new ReplayTracker(historyWorkflowId(history));
  let replayed = 0;
  const result = (divergence?: Divergence): ReplayResult => ({
    ok: divergence === undefined, divergence, eventsReplayed: replayed,
    snapshot: snapshot ? snapshotValue(persistSnapshot(definition.machine, snapshot)) : undefined,
  });

  // A migrated run is replayed from its last migration: the machine events before it belong to
  // the old version; only what they left pending is tracked.
  const migratedAt = lastMigrationIndex(history);
  for (let i = 0; i < history.length; ) {
    const event = history[i]!;
    if (event.seq !== i + 1) return result(gap(i));
    if (i < migratedAt) {
      tracker.track(event);
      i++;
      continue;
    }
    if (event.kind === 'WorkflowMigrated') {
      try {
        snapshot = resolveMachineState(definition.machine, event);
      } catch (error) {
        return result({ seq: event.seq, expected: `a state ${JSON.stringify(event.value)} of the machine`, actual: `none: ${(error as Error).message}` });
      }
      tracker.track(event);
      i++;
      continue;
    }
    if (!DELIVERED_KINDS.has(event.kind)) {
      if (COMMAND_KINDS.has(event.kind)) return result({ seq: event.seq, expected: describe(event), actual: 'no command' });
      tracker.track(event);
      i++;
      continue;
    }
    let decision;
    try {
      decision = decide(definition, snapshot, event as DeliveredEvent & HistoryEvent, tracker.contextFor(event));
    } catch (error) {
      return result({ seq: event.seq, expected: describe(event) + ' applied', actual: `an error: ${(error as Error).message}` });
    }
    replayed++;
    tracker.track(event);
    for (let k = 0; k < decision.commands.length; k++) {
      const recorded = history[i + 1 + k];
      const produced = decision.commands[k]!;
      if (recorded && recorded.seq !== i + 2 + k) return result(gap(i + 1 + k));
      if (!recorded || !sameCommand(recorded, produced)) {
        return result({ seq: recorded?.seq ?? event.seq + 1 + k, expected: recorded ? describe(recorded) : 'end of history', actual: describe(produced) });
      }
      tracker.track(recorded);
    }
    const after = history[i + 1 + decision.commands.length];
    if (after && after.seq !== i + 2 + decision.commands.length) return result(gap(i + 1 + decision.commands.length));
    if (after && COMMAND_KINDS.has(after.kind)) return result({ seq: after.seq, expected: describe(after), actual: 'no command' });
    snapshot = decision.snapshot;
    i += 1 + decision.commands.length;
  }

  if (options.storedSnapshot !== undefined && snapshot
    && !isDeepStrictEqual(snapshotValue(persistSnapshot(definition.machine, snapshot)), snapshotValue(options.storedSnapshot))) {
    const last = history.at(-1)?.seq ?? 0;
    return result({ seq: last, expected: 'the stored snapshot', actual: 'a different snapshot after the last event' });
  }
  return result();

  /** The divergence for a history whose event at `index` is not numbered index + 1. */
  function gap(index: number): Divergence {
    return { seq: index + 1, expected: `event #${index + 1}`, actual: `history jumps to #${history[index]!.seq}` };
  }
}

/** Like replayHistory, but throws NonDeterminismError naming the execution and the divergence. */
export function assertReplays(definition: WorkflowDefinition, history: readonly HistoryEvent[], options: { storedSnapshot?: unknown; workflowId?: string } = {}): void {
  const { divergence } = replayHistory(definition, history, options);
  if (divergence) {
    throw new NonDeterminismError(options.workflowId ?? '?', divergence.seq, divergence.expected, divergence.actual, definition.type, definition.version);
  }
}

function sameCommand(recorded: HistoryEventBody, produced: CommandEvent): boolean {
  if (recorded.kind !== produced.kind) return false;
  const { seq: _s, at: _a, ...body } = recorded as HistoryEvent;
  return isDeepStrictEqual(comparable(body), comparable(produced));
}

/**
 * A command as replay compares it. A failure's stack trace is left out: an error thrown inside
 * a transition (a context factory, a guard) carries the stack of the call that ran it, which
 * differs between the engine and a replay although the decision is the same.
 */
function comparable(command: HistoryEventBody): unknown {
  const json = JSON.parse(JSON.stringify(command)) as { failure?: FailureInfo };
  for (let f = json.failure; f !== undefined; f = f.cause) delete f.stack;
  return json;
}

function describe(e: HistoryEventBody): string {
  switch (e.kind) {
    case 'ActivityScheduled': return `ActivityScheduled("${e.activityType}" as "${e.activityId}")`;
    case 'ActivityCancelRequested': return `ActivityCancelRequested("${e.activityId}")`;
    case 'TimerStarted': return `TimerStarted("${e.timerId}", ${e.delayMs} ms)`;
    case 'TimerCanceled': return `TimerCanceled("${e.timerId}")`;
    case 'SignalReceived': case 'UpdateAccepted': return `${e.kind}("${e.event.type}")`;
    case 'ChildWorkflowScheduled': return `ChildWorkflowScheduled("${e.workflowType}" as "${e.childId}", workflow id "${e.workflowId}")`;
    case 'ChildWorkflowCancelRequested': return `ChildWorkflowCancelRequested("${e.childId}")`;
    default: return e.kind;
  }
}
