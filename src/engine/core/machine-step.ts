import { createActor, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { StepBudget } from './step-budget.ts';

/**
 * The only place the engine touches XState's runtime: pure transitions, and snapshot
 * persistence. No live actor ever runs user code here: a transition returns the actions and
 * the engine interprets them (see decide.ts).
 *
 * This is XState's `initialTransition` / `transition` with one change: the inert actor scope
 * is made once per machine instead of on every call. XState builds it by constructing an actor,
 * which computes the machine's whole initial state — a third of the cost of a step. Reusing it
 * is safe because the scope is inert (nothing is started, scheduled or registered through it);
 * the actions it collects are handed back per call.
 */
export type ActionLike = { type: string; params?: unknown; exec?: ((...args: unknown[]) => unknown) | undefined; info?: unknown };

interface InertScope {
  scope: Record<string, unknown>;
  collected: ActionLike[];
  /** The budget of the step being taken, if any (steps are synchronous: one at a time). */
  budget: StepBudget | undefined;
}

const scopes = new WeakMap<AnyStateMachine, InertScope>();

function inertScope(machine: AnyStateMachine): InertScope {
  let cached = scopes.get(machine);
  if (!cached) {
    // Made from an empty persisted snapshot, not the initial state: computing that runs the
    // machine's first step (context factory, entry, eventless transitions) outside any budget,
    // and a machine that loops at start would hang here. The actor is only a parent and a system.
    const self = createActor(machine, { snapshot: { status: 'active', value: {}, context: {}, children: {}, historyValue: {} } as never });
    const state: InertScope = { scope: {}, collected: [], budget: undefined };
    // XState's macrostep reports every microstep here before it takes the next one: the one
    // place where a step that never settles (an eventless loop) can be stopped. The rest of the
    // system is the inert actor's, by delegation.
    const system = Object.create(self.system as object, {
      _sendInspectionEvent: {
        value: (event: { type: string; snapshot?: unknown }) => {
          if (event.type === '@xstate.microstep') state.budget?.tick(event.snapshot);
        },
      },
    }) as unknown;
    state.scope = {
      self, id: '', sessionId: '', system,
      defer: () => {}, logger: () => {}, stopChild: () => {}, emit: () => {},
      actionExecutor: (action: ActionLike) => state.collected.push(action),
    };
    cached = state;
    scopes.set(machine, cached);
  }
  cached.collected = [];
  cached.budget = undefined;
  return cached;
}

/**
 * The machine's first step. With `budget`, a step past it throws `StepBudgetExceeded` (or, as
 * XState catches errors of the initial step, returns an error snapshot holding it).
 */
export function startMachine(machine: AnyStateMachine, input: unknown, budget?: StepBudget): [AnyMachineSnapshot, ActionLike[]] {
  const inert = inertScope(machine);
  inert.budget = budget;
  budget?.begin();
  try {
    const next = machine.getInitialSnapshot(inert.scope as never, input) as AnyMachineSnapshot;
    budget?.checkDeadline(next);
    return [next, inert.collected];
  } finally {
    inert.budget = undefined;
  }
}

/** One step; with `budget`, a step past it throws `StepBudgetExceeded`. */
export function stepMachine(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: { type: string }, budget?: StepBudget): [AnyMachineSnapshot, ActionLike[]] {
  const inert = inertScope(machine);
  inert.budget = budget;
  budget?.begin();
  try {
    const next = machine.transition(snapshot, event as never, inert.scope as never) as AnyMachineSnapshot;
    budget?.checkDeadline(next);
    return [next, inert.collected];
  } finally {
    inert.budget = undefined;
  }
}

/**
 * A snapshot as stored: JSON text. JSON runs `toJSON` (failures keep their shape); keeping it
 * as text spares a parse and an object walk per step — the store treats it as opaque.
 */
export function persistSnapshot(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): string {
  return JSON.stringify(machine.getPersistedSnapshot(snapshot));
}

/** A stored snapshot as a plain object, whichever form it was stored in. */
export function snapshotValue(stored: unknown): unknown {
  return typeof stored === 'string' ? JSON.parse(stored) : stored;
}

/**
 * Rebuilds a live snapshot from its stored form. Its children are never started: their logic
 * only runs through the engine's own commands.
 */
export function restoreSnapshot(machine: AnyStateMachine, persisted: unknown): AnyMachineSnapshot {
  const inert = inertScope(machine);
  return machine.restoreSnapshot(snapshotValue(persisted) as never, inert.scope as never) as AnyMachineSnapshot;
}

/**
 * A snapshot of `machine` in the state `value` with `context`: where a migration function moves
 * a run. Throws when the value names no state of the machine.
 */
export function resolveMachineState(machine: AnyStateMachine, state: { value: unknown; context: unknown }): AnyMachineSnapshot {
  return machine.resolveState({ value: state.value as never, context: state.context as never }) as AnyMachineSnapshot;
}
