import type { AnyMachineSnapshot } from 'xstate';
import type { MachineEvent } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';

/** Why an update is refused; undefined when it is accepted. */
export type UpdateRefusal = { reason?: string } | undefined;

/**
 * Decides whether an update is accepted: the current state must take the event (XState's `can`,
 * which evaluates guards), and the update's declared validator, if any, must allow it. Runs
 * before anything is recorded, so a refusal leaves no trace.
 */
export function refuseUpdate(definition: WorkflowDefinition, snapshot: AnyMachineSnapshot, event: MachineEvent): UpdateRefusal {
  if (!takes(snapshot, event)) return {};
  const validator = definition.updateValidators[event.type];
  if (validator === undefined) return undefined;
  let verdict: unknown;
  try {
    const args = { context: snapshot.context, event };
    verdict = typeof validator === 'function'
      ? validator(args as never)
      : (definition.machine.implementations.guards[validator] as (a: unknown, p: unknown) => unknown)(args, undefined);
  } catch (error) {
    return { reason: `its validator threw: ${(error as Error).message}` };
  }
  if (verdict === true) return undefined;
  return { reason: typeof verdict === 'string' ? verdict : `its validator (${typeof validator === 'string' ? `guard "${validator}"` : 'a function'}) refused it` };
}

/** Whether the state takes the event. A guard that throws counts as yes: the step then fails the run, as for a signal. */
function takes(snapshot: AnyMachineSnapshot, event: MachineEvent): boolean {
  try {
    return snapshot.can(event);
  } catch {
    return true;
  }
}
