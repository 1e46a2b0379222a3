import { readdirSync } from 'node:fs';
import { assign, createMachine, initialTransition, setup, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { approvalMachine } from '../../../machines/approval.ts';
import { orderWorkflow } from '../../../machines/order.ts';
import { secureOrderMachine } from '../../../machines/secure-order.ts';
import { statelyCode, statelyConfig } from '../../../src/definition/stately-export.ts';
import { statelyExport } from '../../../src/definition/stately-machine.ts';
import { machineGraph } from '../../../src/ui/app/src/lib/machine-graph.ts';
import { definitionOf, nestedMachine } from '../ui/fixtures.ts';

/** Runs the exported code (its createMachine or setup call) and returns the machine it makes. */
function evaluate(code: string): AnyStateMachine {
  const body = code.replace(/^import \{ (createMachine|setup) \} from 'xstate';/, '').replace('export const machine =', 'return');
  return new Function('createMachine', 'setup', body)(createMachine, setup) as AnyStateMachine;
}

/** What the diagram shows: states with their types and initial states, and transitions by event. */
function shape(definition: never) {
  const g = machineGraph(definition);
  return {
    nodes: [...g.nodes.values()].map((n) => ({ id: n.id, type: n.type, initial: n.initial, invokes: n.invokes, internal: n.internal.map((e) => e.label) })),
    edges: g.edges.map((e) => ({ source: e.source, label: e.label, target: e.target, guard: e.guard })),
  };
}

/** Every XState machine that a module of machines/ exports, by file and export name. */
const machinesDir = new URL('../../../machines/', import.meta.url);
const exampleMachines: [string, AnyStateMachine][] = [];
for (const file of readdirSync(machinesDir).filter((f) => f.endsWith('.ts')).sort()) {
  const module = (await import(new URL(file, machinesDir).href)) as Record<string, unknown>;
  for (const [name, value] of Object.entries(module)) {
    if (value && typeof value === 'object' && 'root' in value && 'implementations' in value) exampleMachines.push([`${file}: ${name}`, value as AnyStateMachine]);
  }
}

describe('statelyExport', () => {
  it('finds the example machines to test', () => {
    expect(exampleMachines.map(([name]) => name)).toEqual(expect.arrayContaining(['order.ts: orderMachine', 'cart.ts: cartMachine', 'three-step.ts: threeStepMachine']));
  });

  describe.each(exampleMachines)('%s', (_, machine) => {
    it('exports JSON that createMachine(json) loads back and that draws the same diagram', () => {
      const json = JSON.parse(JSON.stringify(statelyExport(machine).config)) as never;
      expect(shape(definitionOf(createMachine(json)))).toEqual(shape(definitionOf(machine)));
    });

    it('exports code that draws the same diagram and, in plain XState, starts where the server starts', () => {
      const exported = evaluate(statelyCode(statelyExport(machine)));
      expect(shape(definitionOf(exported))).toEqual(shape(definitionOf(machine)));
      // The implementations stay in the user's code: named guards, actions and actors come from it.
      const { guards, actions, actors } = machine.implementations;
      const linked = exported.provide({ guards, actions, actors });
      expect(initialTransition(linked)[0].value).toEqual(initialTransition(machine)[0].value);
    });
  });

  it('declares named delays as their values, so plain XState waits in `waiting` instead of expiring at once', () => {
    const exported = statelyExport(approvalMachine);
    expect(exported.delays).toEqual({ approvalTimeout: 86_400_000, reminderDelay: 43_200_000 });
    const code = statelyCode(exported);
    expect(code).toMatch(/^import \{ setup \} from 'xstate';\n\nexport const machine = setup\(\{\n {2}delays: \{\n {4}approvalTimeout: 86400000,\n {4}reminderDelay: 43200000,\n {2}\},\n\}\)\.createMachine\(\{\n/);
    expect(initialTransition(evaluate(code))[0].value).toBe('waiting');
  });

  it('keeps eventless (always) transitions, which toJSON() drops, and the context a run without input starts with', () => {
    const { config } = statelyExport(secureOrderMachine);
    expect((config.states as Record<string, unknown>).checking).toEqual({ always: [{ target: 'review', guard: 'needsReview' }, 'charging'] });
    expect(config.context).toMatchObject({ orderId: 'unknown', amount: 0 });
    const { guards, actors } = secureOrderMachine.implementations;
    const linked = createMachine(config as never).provide({ guards, actors } as never);
    expect(initialTransition(linked)[0].value).toBe('charging');
  });
});

describe('statelyCode', () => {
  it('exports createMachine code for Stately Studio, with sibling targets and after/invoke in their places', () => {
    const code = statelyCode(statelyExport(approvalMachine));
    expect(code).toContain("initial: 'waiting'");
    expect(code).toContain("APPROVE: 'approved'");
    expect(code).toContain('after: {');
    expect(code).toContain("approvalTimeout: 'expired'");
    const order = statelyCode(statelyExport(orderWorkflow.machine));
    expect(order).toMatch(/^import \{ createMachine \} from 'xstate';\n\nexport const machine = createMachine\(\{\n/);
    expect(order).toContain("src: 'chargeCard'");
    expect(order).toContain("onDone: 'reserving'");
    expect(order).toContain("onError: 'declined'");
  });

  for (const [name, machine] of [['approval', approvalMachine], ['order', orderWorkflow.machine], ['nested (parallel, guards, numeric delays)', nestedMachine]] as const) {
    it(`round-trips the ${name} machine's JSON definition: the exported code draws the same diagram`, () => {
      const original = definitionOf(machine);
      const again = evaluate(statelyCode({ config: statelyConfig(original), delays: {} }));
      expect(shape(definitionOf(again))).toEqual(shape(original));
    });
  }

  it('keeps guards and actions by name with their params, and leaves out inline functions and built-ins', () => {
    const machine = setup({
      guards: { isAbove: (_, params: { min: number }) => params.min > 0 },
      actions: { notify: (_, params: { to: string }) => void params, log: () => {} },
    }).createMachine({
      id: 'params',
      context: { n: 0 },
      initial: 'a',
      states: {
        a: {
          entry: ['log', assign({ n: 1 })],
          on: { GO: { target: 'b', guard: { type: 'isAbove', params: { min: 3 } }, actions: [{ type: 'notify', params: { to: 'ops' } }, () => {}] } },
        },
        b: { id: 'custom-b', on: { BACK: 'a' } },
      },
    });
    const code = statelyCode(statelyExport(machine));
    expect(code).toMatch(/guard: \{\s+type: 'isAbove',\s+params: \{\s+min: 3,/);
    expect(code).toMatch(/actions: \{\s+type: 'notify',\s+params: \{\s+to: 'ops',/);
    expect(code).toContain("entry: 'log'");
    expect(code).not.toContain('xstate.');
    // A state with its own id keeps it, so `#custom-b` targets elsewhere still resolve.
    expect(code).toContain("id: 'custom-b'");
    expect(code).toContain("target: 'b'");
  });

  it('refuses what is not a machine\'s JSON with INVALID_ARGUMENT', () => {
    for (const bad of [null, 42, 'machine', { states: {} }]) {
      expect(() => statelyConfig(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
