import { readdirSync, readFileSync } from 'node:fs';
import { createMachine, initialTransition, setup, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import * as examples from '../../machines/index.ts';
import { DELIVERED_KINDS, type HistoryEvent } from '../../src/common/history.ts';
import { statelyCode } from '../../src/definition/stately-export.ts';
import { statelyExport } from '../../src/definition/stately-machine.ts';
import type { WorkflowDefinition } from '../../src/index.ts';
import { toMachineEvent, type DeliveredEvent } from '../../src/engine/core/decide.ts';
import { replayHistory } from '../../src/testing/index.ts';
import type { HistoryFixture } from '../../scripts/record-histories.ts';

// What `perdure machine export` gives must behave as the server's machine does, not only draw
// like it: each recorded history's events, fed to the exported code in plain XState (the pure
// `transition`, so no clock is involved), end in the state value the server's run ended in.

const dir = new URL('./histories/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as HistoryFixture) }));
const byType = new Map<string, WorkflowDefinition>(Object.values(examples).map((d) => [d.type, d]));

/** The exported code, run as a user who pasted it would run it. */
function evaluate(code: string): AnyStateMachine {
  const body = code.replace(/^import \{ (createMachine|setup) \} from 'xstate';/, '').replace('export const machine =', 'return');
  return new Function('createMachine', 'setup', body)(createMachine, setup) as AnyStateMachine;
}

/** Feeds a history's delivered events, in order, to a machine in plain XState. */
function runInPlainXState(machine: AnyStateMachine, history: readonly HistoryEvent[]): AnyMachineSnapshot {
  let snapshot: AnyMachineSnapshot | undefined;
  for (const event of history) {
    if (!DELIVERED_KINDS.has(event.kind)) continue;
    if (event.kind === 'WorkflowStarted') {
      [snapshot] = initialTransition(machine, event.input);
      continue;
    }
    const machineEvent = toMachineEvent(event as DeliveredEvent, event.at, { length: event.seq - 1, bytes: 0 });
    [snapshot] = transition(machine, snapshot!, machineEvent);
  }
  return snapshot!;
}

describe('the exported machines, run in plain XState on recorded histories', () => {
  it.each(fixtures)('$file ends in the state value the server reached', ({ workflowType, history }) => {
    const definition = byType.get(workflowType)!;
    const server = replayHistory(definition, history);
    expect(server.ok).toBe(true);
    // Named guards, actions and actors are the user's code: they come from the machine's source.
    const { guards, actions, actors } = definition.machine.implementations;
    const exported = evaluate(statelyCode(statelyExport(definition.machine))).provide({ guards, actions, actors });
    expect(runInPlainXState(exported, history).value).toEqual((server.snapshot as { value: unknown }).value);
  });
});
