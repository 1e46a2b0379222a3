import { createActor, initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';

/**
 * The only place the engine touches XState's runtime: pure transitions, and snapshot
 * persistence. No live actor ever runs user code here: `transition()` returns the actions and
 * the engine interprets them (see decide.ts).
 */
export type ActionLike = { type: string; params?: unknown; exec?: ((...args: unknown[]) => unknown) | undefined; info?: unknown };

export function startMachine(machine: AnyStateMachine, input: unknown): [AnyMachineSnapshot, ActionLike[]] {
  return initialTransition(machine, input) as [AnyMachineSnapshot, ActionLike[]];
}

export function stepMachine(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: { type: string }): [AnyMachineSnapshot, ActionLike[]] {
  return transition(machine, snapshot, event) as [AnyMachineSnapshot, ActionLike[]];
}

/** JSON form of a snapshot, as stored. JSON also runs `toJSON` (failures keep their shape). */
export function persistSnapshot(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): unknown {
  return JSON.parse(JSON.stringify(machine.getPersistedSnapshot(snapshot)));
}

/**
 * Rebuilds a live snapshot from its stored form. XState wants an actor scope to restore into;
 * an unstarted actor gives one, and its children are never started (their logic only runs
 * through the engine's own commands).
 */
export function restoreSnapshot(machine: AnyStateMachine, persisted: unknown): AnyMachineSnapshot {
  const self = createActor(machine);
  const scope = {
    self, id: '', sessionId: '', system: self.system,
    defer: () => {}, logger: () => {}, stopChild: () => {}, emit: () => {}, actionExecutor: () => {},
  };
  return machine.restoreSnapshot(persisted as never, scope as never) as AnyMachineSnapshot;
}
