import { isDeepStrictEqual } from 'node:util';
import type { AnyMachineSnapshot } from 'xstate';
import { NonDeterminismError } from '../../common/errors.ts';
import type { FailureInfo } from '../../common/failures.ts';
import { COMMAND_KINDS, type HistoryEvent, type HistoryEventBody } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import type { CommandEvent } from './decide.ts';
import { persistSnapshot, snapshotValue } from './machine-step.ts';
import { stepHistory } from './step-history.ts';

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
 * Replays a history through a machine from the start, exactly as the engine ran it (one
 * `stepHistory` walk), and reports the first divergence: a command the machine no longer
 * produces (or produces differently), or, with `storedSnapshot`, an end state different from
 * the stored one. Use it in CI to learn
 * before a deploy that a changed machine would break running executions.
 *
 * @example
 * const result = replayHistory(orderWorkflow, await engine.history({ workflowId: 'o-1' }));
 * if (!result.ok) console.error(result.divergence);
 */
export function replayHistory(definition: WorkflowDefinition, history: readonly HistoryEvent[], options: { storedSnapshot?: unknown } = {}): ReplayResult {
  // The snapshot of the last step whose commands all matched the history; a step is taken as
  // replayed only once the event after its commands is not one more command.
  let snapshot: AnyMachineSnapshot | undefined;
  let replayed = 0;
  /** The delivered event whose commands are being matched against the records after it. */
  let open: { seq: number; commands: CommandEvent[]; matched: number; snapshot: AnyMachineSnapshot } | undefined;
  const result = (divergence?: Divergence): ReplayResult => ({
    ok: divergence === undefined, divergence, eventsReplayed: replayed,
    snapshot: snapshot ? snapshotValue(persistSnapshot(definition.machine, snapshot)) : undefined,
  });

  let index = 0;
  for (const step of stepHistory(definition, history)) {
    const { event } = step;
    if (event.seq !== index + 1) return result(gap(index));
    index++;
    if (open && open.matched < open.commands.length) {
      const produced = open.commands[open.matched]!;
      if (!sameCommand(event, produced)) return result({ seq: event.seq, expected: describe(event), actual: describe(produced) });
      open.matched++;
      continue;
    }
    if (step.kind === 'recorded' && COMMAND_KINDS.has(event.kind)) return result({ seq: event.seq, expected: describe(event), actual: 'no command' });
    if (open) {
      snapshot = open.snapshot;
      open = undefined;
    }
    switch (step.kind) {
      case 'stopped':
        return result(event.kind === 'WorkflowMigrated'
          ? { seq: event.seq, expected: `a state ${JSON.stringify(event.value)} of the machine`, actual: `none: ${step.error.message}` }
          : { seq: event.seq, expected: describe(event) + ' applied', actual: `an error: ${step.error.message}` });
      case 'migrated':
        snapshot = step.snapshot;
        break;
      case 'delivered':
        replayed++;
        open = { seq: event.seq, commands: step.decision.commands, matched: 0, snapshot: step.decision.snapshot };
        break;
      default:
        break;
    }
  }
  if (open) {
    const missing = open.commands[open.matched];
    if (missing) return result({ seq: open.seq + 1 + open.matched, expected: 'end of history', actual: describe(missing) });
    snapshot = open.snapshot;
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
