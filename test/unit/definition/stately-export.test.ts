import { assign, createMachine, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { approvalMachine } from '../../../machines/approval.ts';
import { orderWorkflow } from '../../../machines/order.ts';
import { statelyCode } from '../../../src/definition/stately-export.ts';
import { machineGraph } from '../../../src/ui/app/src/lib/machine-graph.ts';
import { definitionOf, nestedMachine } from '../ui/fixtures.ts';

/** Runs the exported code (its createMachine call) and returns the machine it makes. */
function evaluate(code: string) {
  const body = code.replace("import { createMachine } from 'xstate';", '').replace('export const machine =', 'return');
  return new Function('createMachine', body)(createMachine) as ReturnType<typeof createMachine>;
}

/** What the diagram shows: states with their types and initial states, and transitions by event. */
function shape(definition: never) {
  const g = machineGraph(definition);
  return {
    nodes: [...g.nodes.values()].map((n) => ({ id: n.id, type: n.type, initial: n.initial, invokes: n.invokes, internal: n.internal.map((e) => e.label) })),
    edges: g.edges.map((e) => ({ source: e.source, label: e.label, target: e.target, guard: e.guard })),
  };
}

describe('statelyCode', () => {
  it('exports createMachine code for Stately Studio, with sibling targets and after/invoke in their places', () => {
    const code = statelyCode(definitionOf(approvalMachine));
    expect(code).toMatch(/^import \{ createMachine \} from 'xstate';\n\nexport const machine = createMachine\(\{\n/);
    expect(code).toContain("initial: 'waiting'");
    expect(code).toContain("APPROVE: 'approved'");
    expect(code).toContain('after: {');
    expect(code).toContain("approvalTimeout: 'expired'");
    const order = statelyCode(definitionOf(orderWorkflow.machine));
    expect(order).toContain("src: 'chargeCard'");
    expect(order).toContain("onDone: 'reserving'");
    expect(order).toContain("onError: 'declined'");
  });

  for (const [name, machine] of [['approval', approvalMachine], ['order', orderWorkflow.machine], ['nested (parallel, guards, numeric delays)', nestedMachine]] as const) {
    it(`round-trips the ${name} machine: the exported code draws the same diagram`, () => {
      const original = definitionOf(machine);
      const again = evaluate(statelyCode(original));
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
    const code = statelyCode(definitionOf(machine));
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
      expect(() => statelyCode(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
