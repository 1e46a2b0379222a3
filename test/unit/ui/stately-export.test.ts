import { createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { approvalMachine } from '../../../machines/approval.ts';
import { orderWorkflow } from '../../../machines/order.ts';
import { machineGraph } from '../../../src/ui/app/src/lib/machine-graph.ts';
import { statelyCode } from '../../../src/ui/app/src/lib/stately-export.ts';
import { definitionOf, nestedMachine } from './fixtures.ts';

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
});
