import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { InvalidDefinitionError } from '../../../src/common/errors.ts';
import { workflow } from '../../../src/definition/workflow.ts';

const machine = setup({ types: { context: {} as { customerId: string; amount: number } } }).createMachine({
  id: 'order', context: { customerId: 'c-1', amount: 5 }, initial: 'open',
  states: { open: { on: { BUMP: { actions: assign({ amount: ({ context }) => context.amount + 1 }) } } } },
});

describe('workflow(machine, { searchAttributes })', () => {
  it('keeps the declarations, typed by the context, and leaves the version as without them', () => {
    const w = workflow(machine, { searchAttributes: {
      customerId: { type: 'keyword', from: (ctx) => ctx.customerId },
      amount: { type: 'number', from: (ctx) => ctx.amount },
    } });
    expect(Object.keys(w.searchAttributes)).toEqual(['customerId', 'amount']);
    expect(w.version).toBe(workflow(machine).version);
    expect(workflow(machine).searchAttributes).toEqual({});
  });

  it('refuses a bad declaration at registration, listing every problem', () => {
    const bad = () => workflow(machine, { searchAttributes: {
      'customer-id': { type: 'keyword', from: (ctx) => ctx.customerId },
      amount: { type: 'money' as 'number', from: (ctx) => ctx.amount },
      vip: { type: 'boolean', from: 'vip' as unknown as () => boolean },
      note: { type: 'keyword', from: () => '', index: true } as never,
    } });
    expect(bad).toThrow(InvalidDefinitionError);
    expect(bad).toThrow(/search attribute "customer-id": a name is letters, digits and _/);
    expect(bad).toThrow(/search attribute "amount": type "money" is not one of keyword, number, boolean, datetime/);
    expect(bad).toThrow(/search attribute "vip": from must be a function of the context, e.g. from: \(ctx\) => ctx.vip/);
    expect(bad).toThrow(/search attribute "note": unknown field "index"/);
    expect(() => workflow(machine, { searchAttributes: [] as never })).toThrow(/searchAttributes must be an object/);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, { type: 'number' as const, from: () => i }]));
    expect(() => workflow(machine, { searchAttributes: many })).toThrow(/declares 33 attributes; at most 32/);
  });
});
