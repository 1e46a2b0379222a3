import { initialTransition, type AnyStateMachine, type AnyStateNode } from 'xstate';
import type { StateJson, TransitionJson } from './machine-json.ts';
import { statelyConfig, type StatelyExport } from './stately-export.ts';

/**
 * A machine as `perdure machine export` and the web UI export it (see `StatelyExport`): read
 * from the machine itself, where `toJSON()` falls short. `toJSON()` drops `always` transitions
 * and knows neither the context nor the delays, which live in code; here the context is the
 * one a run started without input begins with, and each named delay is its value for that
 * context. A delay or context whose code throws on it (or gives no number) is left out:
 * the export is for reading and drawing, never a reason to fail.
 *
 * @example
 * const { config, delays } = statelyExport(approvalMachine);
 * delays; // { approvalTimeout: 86400000, reminderDelay: 43200000 }
 * createMachine(config, { delays }); // runs in plain XState as the server runs it
 */
export function statelyExport(machine: AnyStateMachine): StatelyExport {
  const definition = JSON.parse(JSON.stringify(machine)) as StateJson;
  addAlways(definition, machine.root);
  const context = initialContext(machine);
  const delays: Record<string, number> = {};
  for (const [name, delay] of Object.entries(machine.implementations.delays)) {
    const value = delayValue(delay, context);
    if (value !== undefined) delays[name] = value;
  }
  return { config: statelyConfig(definition, context), delays };
}

/** Copies each state node's eventless transitions into its JSON (as `toJSON()` writes transitions). */
function addAlways(json: StateJson, node: AnyStateNode): void {
  if (node.always?.length) json.always = JSON.parse(JSON.stringify(node.always)) as TransitionJson[];
  for (const [key, child] of Object.entries(node.states)) {
    const childJson = json.states?.[key];
    if (childJson) addAlways(childJson, child);
  }
}

/** The context a run started without input begins with, as plain JSON (undefined when the factory throws). */
function initialContext(machine: AnyStateMachine): unknown {
  try {
    const [snapshot] = initialTransition(machine, undefined);
    const context = JSON.parse(JSON.stringify(snapshot.context ?? null)) as unknown;
    return context && typeof context === 'object' && Object.keys(context).length ? context : undefined;
  } catch {
    return undefined;
  }
}

function delayValue(delay: unknown, context: unknown): number | undefined {
  let value = delay;
  if (typeof delay === 'function') {
    try {
      value = (delay as (args: unknown, params: unknown) => unknown)({ context, event: { type: 'xstate.init' } }, undefined);
    } catch {
      return undefined;
    }
  }
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
