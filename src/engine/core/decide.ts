import type { AnyMachineSnapshot } from 'xstate';
import { actorKind } from '../../definition/actor-kind.ts';
import { activityMarker } from '../../definition/activity.ts';
import { childWorkflowMarker } from '../../definition/child-workflow.ts';
import { isContinueAsNew } from '../../definition/continue-as-new.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import { toMs } from '../../common/duration.ts';
import { PerdureError } from '../../common/errors.ts';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, fromFailureInfo, toFailureInfo, type FailureInfo } from '../../common/failures.ts';
import type { ExecutionStatus, HistoryEventBody, MachineEvent } from '../../common/history.ts';
import { startMachine, stepMachine, type ActionLike } from './machine-step.ts';
import { CANCEL_EVENT } from '../../definition/cancel-event.ts';
import { DEFAULT_STEP_LIMITS, StepBudget, stepFailureOf, type StepFailure } from './step-budget.ts';

export { CANCEL_EVENT };

/** History events that are delivered to the machine. */
export type DeliveredEvent = Extract<HistoryEventBody, { kind:
  'WorkflowStarted' | 'SignalReceived' | 'UpdateAccepted' | 'TimerFired' | 'ActivityCompleted' | 'ActivityFailed' | 'CancelRequested'
  | 'ChildWorkflowCompleted' | 'ChildWorkflowFailed' }>;

export type CommandEvent = Extract<HistoryEventBody, { kind:
  'ActivityScheduled' | 'ActivityCancelRequested' | 'TimerStarted' | 'TimerCanceled' | 'WorkflowCompleted' | 'WorkflowFailed' | 'WorkflowCanceled'
  | 'ChildWorkflowScheduled' | 'ChildWorkflowCancelRequested' | 'WorkflowContinuedAsNew' }>;

export interface DecideContext {
  /** seq and recorded time of the delivered event. */
  seq: number;
  at: number;
  /** The run's workflow id: the default child workflow ids are made from it. */
  workflowId: string;
  /** Activity, timer and child ids outstanding before this event. */
  activities: Iterable<string>;
  timers: Iterable<string>;
  children: Iterable<string>;
  /** The history before this event: its length, and its size in JSON characters. */
  history: HistoryStats;
  /**
   * The step's budget. The engine passes one that also watches a deadline; without one, only the
   * default microstep limit applies, which is deterministic (replay, the pure tests).
   */
  budget?: StepBudget;
}

export interface HistoryStats {
  length: number;
  bytes: number;
}

export interface Decision {
  snapshot: AnyMachineSnapshot;
  /** Records to append right after the delivered event, in order. */
  commands: CommandEvent[];
  status: ExecutionStatus;
  /** User actions with side effects (inline functions), run after commit, at-least-once. */
  sideEffects: ActionLike[];
  /**
   * Set when the step was stopped (a limit broken) or its machine code threw. The decision is
   * then the one that fails the run; the engine commits it only under the `'fail'` policy and
   * otherwise commits nothing and blocks the execution (docs/workflow-isolation.md).
   */
  stepFailure?: StepFailure;
}

/** Deterministic: the same limit on every replay. */
const DEFAULT_BUDGET = new StepBudget(DEFAULT_STEP_LIMITS);

/**
 * The pure heart of the engine: one delivered event in, the next snapshot and the commands out.
 * Replaying a history calls exactly this, so anything here must depend only on its arguments
 * (no clock, no randomness, no I/O).
 */
export function decide(definition: WorkflowDefinition, snapshot: AnyMachineSnapshot | undefined, event: DeliveredEvent, ctx: DecideContext): Decision {
  const activities = new Set(ctx.activities);
  const timers = new Set(ctx.timers);
  const children = new Set(ctx.children);
  const commands: CommandEvent[] = [];
  const sideEffects: ActionLike[] = [];
  const machine = definition.machine;
  const budget = ctx.budget ?? DEFAULT_BUDGET;
  let stepFailure: StepFailure | undefined;

  if (event.kind === 'WorkflowStarted') {
    let started: [AnyMachineSnapshot, ActionLike[]];
    try {
      started = startMachine(machine, event.input, budget);
    } catch (error) {
      // Only the deadline check after the step throws here; XState catches the rest (below).
      stepFailure = stepFailureOf(error, null);
      return failStep(undefined, error);
    }
    // XState catches what the first step throws (a context factory, a budget) into an error
    // snapshot: at start no actor error event can have caused it.
    if (started[0].status === 'error') {
      stepFailure = stepFailureOf(started[0].error, null);
      return failStep(started[0], started[0].error);
    }
    return finish(...started);
  }
  if (snapshot === undefined) throw new PerdureError('INTERNAL', `decide: ${event.kind} delivered before the run started (no snapshot): a bug in the engine, please report it.`);
  if (event.kind === 'ActivityCompleted' || event.kind === 'ActivityFailed') activities.delete(event.activityId);
  if (event.kind === 'TimerFired') timers.delete(event.timerId);
  if (event.kind === 'ChildWorkflowCompleted' || event.kind === 'ChildWorkflowFailed') children.delete(event.childId);

  const machineEvent = toMachineEvent(event, ctx.at, ctx.history);
  if (event.kind === 'CancelRequested' && !handles(snapshot, machineEvent)) {
    // The machine does not take part in cancellation: end Canceled, cancelling what is pending.
    cancelPending();
    commands.push({ kind: 'WorkflowCanceled', reason: event.reason });
    return { snapshot, commands, status: 'canceled', sideEffects };
  }
  let stepped: [AnyMachineSnapshot, ActionLike[]];
  try {
    stepped = stepMachine(machine, snapshot, machineEvent, budget);
  } catch (error) {
    // A guard (or assign) that throws, or a step past its budget, makes XState's pure
    // transition throw, where a live actor would end in status 'error'. The decision is the one
    // a live actor takes (createActor's `_process`): keep the state, mark it errored, fail the
    // run. Whether that is committed is the engine's policy (stepFailure says why). A throw and
    // the microstep count depend only on context and event, so replay stops at the same event.
    stepFailure = stepFailureOf(error, plain(snapshot.value));
    return failStep(snapshot, error);
  }
  return finish(...stepped);

  /** The decision that fails the run at a stopped or throwing step. */
  function failStep(before: AnyMachineSnapshot | undefined, error: unknown): Decision {
    const failed = { ...(before ?? {}), status: 'error', error } as AnyMachineSnapshot;
    cancelPending();
    // A throw keeps the user's error as the failure (its message, its type); a broken limit is
    // the engine's, typed by its code.
    const failure = stepFailure!.code === 'MACHINE_CODE_FAILED'
      ? toFailureInfo(error)
      : toFailureInfo(ApplicationFailure.create({ type: stepFailure!.code, nonRetryable: true, message: `${stepFailure!.detail}, in state ${JSON.stringify(stepFailure!.state)}` }));
    commands.push({ kind: 'WorkflowFailed', failure });
    return { snapshot: failed, commands, status: 'failed', sideEffects: [], stepFailure };
  }

  function finish(next: AnyMachineSnapshot, actions: ActionLike[]): Decision {
    // When this step ends the run, XState stops the invoked children of the states it leaves:
    // for child workflows that is the parent closing, which their parent close policy governs.
    const closing = next.status === 'done' || next.status === 'error';
    let violation: string | undefined;
    actions.forEach((action, index) => {
      violation ??= interpret(action, index, closing);
    });
    if (violation !== undefined) {
      cancelPending();
      const failure: FailureInfo = { code: 'APPLICATION_FAILURE', type: 'InvalidDefinition', nonRetryable: true, message: violation };
      commands.push({ kind: 'WorkflowFailed', failure });
      return { snapshot: next, commands, status: 'failed', sideEffects: [] };
    }
    if (next.status === 'done') {
      cancelPending();
      if (isContinueAsNew(next.output)) {
        commands.push({ kind: 'WorkflowContinuedAsNew', input: plain(next.output.input) });
        return { snapshot: next, commands, status: 'continuedAsNew', sideEffects };
      }
      commands.push({ kind: 'WorkflowCompleted', output: plain(next.output) });
      return { snapshot: next, commands, status: 'completed', sideEffects };
    }
    if (next.status === 'error') {
      cancelPending();
      commands.push({ kind: 'WorkflowFailed', failure: toFailureInfo(next.error) });
      return { snapshot: next, commands, status: 'failed', sideEffects };
    }
    return { snapshot: next, commands, status: 'running', sideEffects };
  }

  /** Turns one XState action into commands; returns a message when the machine broke a rule. */
  function interpret(action: ActionLike, index: number, closing: boolean): string | undefined {
    const params = (action.params ?? {}) as Record<string, unknown>;
    switch (action.type) {
      case 'xstate.spawnChild': {
        const id = params.id;
        const src = params.src;
        if (typeof id !== 'string' || /^x:\d+$/.test(id)) {
          return `spawned actor "${String(src)}" has no explicit id; generated ids break replay: give it one (spawn(src, { id }))`;
        }
        const logic = (params.actorRef as { logic?: unknown } | undefined)?.logic
          ?? (typeof src === 'string' ? machine.implementations.actors[src] : undefined);
        const kind = actorKind(logic);
        if (kind === 'activity') {
          const marker = activityMarker(logic)!;
          commands.push({ kind: 'ActivityScheduled', activityId: id, activityType: marker.name, input: plain(params.input), local: false, options: marker.options });
        } else if (kind === 'localActivity') {
          commands.push({ kind: 'ActivityScheduled', activityId: id, activityType: String(src), input: plain(params.input), local: true, options: {} });
        } else if (kind === 'childWorkflow') {
          return scheduleChild(id, logic, params.input);
        } else {
          return `actor "${id}" (src "${String(src)}") is a ${kind === 'machine' ? 'child machine' : 'callback/observable actor'}, which cannot be made durable: use activity() or fromPromise`;
        }
        activities.add(id);
        return undefined;
      }
      case 'xstate.stopChild': {
        const id = typeof action.params === 'string' ? action.params : (params.id as string | undefined);
        if (id !== undefined && activities.delete(id)) commands.push({ kind: 'ActivityCancelRequested', activityId: id });
        if (id !== undefined && !closing && children.delete(id)) commands.push({ kind: 'ChildWorkflowCancelRequested', childId: id });
        return undefined;
      }
      case 'xstate.raise':
        if (params.delay === undefined) return undefined;
        startTimer(params.id, params.delay, params.event, index);
        return undefined;
      case 'xstate.sendTo': {
        const to = params.to as { logic?: unknown } | undefined;
        if (to?.logic !== machine) {
          return 'sendTo another actor is not durable: send events to the machine itself (raise) or model the work as an activity';
        }
        // A send to self is a timer (of zero delay when none was given): durable, replayable.
        startTimer(params.id, params.delay ?? 0, params.event, index);
        return undefined;
      }
      case 'xstate.cancel': {
        const id = params.sendId;
        if (typeof id === 'string' && timers.delete(id)) commands.push({ kind: 'TimerCanceled', timerId: id });
        return undefined;
      }
      default:
        if (typeof action.exec === 'function') sideEffects.push(action);
        return undefined;
    }
  }

  function scheduleChild(childId: string, logic: unknown, input: unknown): string | undefined {
    const marker = childWorkflowMarker(logic)!;
    let workflowId: unknown = `${ctx.workflowId}/${childId}`;
    if (typeof marker.workflowId === 'string') workflowId = marker.workflowId;
    if (typeof marker.workflowId === 'function') {
      try {
        workflowId = marker.workflowId(input);
      } catch (error) {
        // Depends only on the input, so replay fails at the same step: the run fails, saying why.
        return `child workflow "${childId}": its workflowId function threw: ${(error as Error)?.message ?? String(error)}`;
      }
    }
    if (typeof workflowId !== 'string' || workflowId.length === 0) {
      return `child workflow "${childId}": its workflowId option gave ${JSON.stringify(workflowId)}, not a non-empty string`;
    }
    children.add(childId);
    commands.push({
      kind: 'ChildWorkflowScheduled', childId, workflowType: marker.workflowType, workflowId, input: plain(input), parentClosePolicy: marker.parentClosePolicy,
    });
    return undefined;
  }

  function startTimer(id: unknown, delay: unknown, timerEvent: unknown, index: number): void {
    // Delayed events without an id get one from their position: the same on every replay.
    const timerId = typeof id === 'string' ? id : `delayed.${ctx.seq}.${index}`;
    if (timers.has(timerId)) commands.push({ kind: 'TimerCanceled', timerId });
    const delayMs = typeof delay === 'number' ? delay : toMs(delay as never, `delay of timer "${timerId}"`);
    timers.add(timerId);
    commands.push({ kind: 'TimerStarted', timerId, dueAt: ctx.at + delayMs, delayMs, event: plain(timerEvent) as MachineEvent });
  }

  function cancelPending(): void {
    for (const activityId of activities) commands.push({ kind: 'ActivityCancelRequested', activityId });
    for (const timerId of timers) commands.push({ kind: 'TimerCanceled', timerId });
    activities.clear();
    timers.clear();
  }
}

/**
 * The XState event a delivered history event becomes. Every event carries its recorded time and
 * the size of the history before it (`historyLength`, `historyBytes`), so a machine can decide
 * to continue as new before its history grows too long.
 */
export function toMachineEvent(event: DeliveredEvent, at: number, history: HistoryStats = { length: 0, bytes: 0 }): MachineEvent {
  // The server's values win over fields of these names the sender put in the event itself.
  const stamp = { recordedAt: at, historyLength: history.length, historyBytes: history.bytes };
  switch (event.kind) {
    case 'SignalReceived':
    case 'UpdateAccepted':
    case 'TimerFired':
      return { ...event.event, ...stamp };
    case 'ActivityCompleted':
      return { type: `xstate.done.actor.${event.activityId}`, output: event.output, actorId: event.activityId, ...stamp };
    case 'ActivityFailed': {
      const failure = fromFailureInfo(event.failure);
      const error = failure instanceof ActivityFailure ? failure : new ActivityFailure(event.activityId, event.activityId, 'nonRetryableFailure', failure);
      return { type: `xstate.error.actor.${event.activityId}`, error, actorId: event.activityId, ...stamp };
    }
    case 'ChildWorkflowCompleted':
      return { type: `xstate.done.actor.${event.childId}`, output: event.output, actorId: event.childId, ...stamp };
    case 'ChildWorkflowFailed': {
      const failure = fromFailureInfo(event.failure);
      const error = failure instanceof ChildWorkflowFailure ? failure : new ChildWorkflowFailure('unknown', event.workflowId, failure);
      return { type: `xstate.error.actor.${event.childId}`, error, actorId: event.childId, ...stamp };
    }
    case 'CancelRequested':
      return { type: CANCEL_EVENT, reason: event.reason, ...stamp };
    case 'WorkflowStarted':
      return { type: 'xstate.init', input: event.input, ...stamp };
  }
}

/** Whether the current state takes the event; a guard that throws counts (the step then fails the run). */
function handles(snapshot: AnyMachineSnapshot, event: MachineEvent): boolean {
  try {
    return snapshot.can(event);
  } catch {
    return true;
  }
}

function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
