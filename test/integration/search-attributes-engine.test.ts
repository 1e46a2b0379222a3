import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { workflow } from '../../src/index.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/test-engine.ts';
import { customerOrderWorkflow } from '../../machines/customer-order.ts';

// Search attributes in the engine (in process, LevelDB in a temp directory): a mapping that
// fails never fails the run, a reset recomputes them, declarations that disagree fail at start.

const counter = setup({ types: { context: {} as { n: number; label: string } } }).createMachine({
  id: 'counter', context: { n: 0, label: 'start' }, initial: 'counting',
  states: {
    counting: {
      on: {
        INC: { actions: assign({ n: ({ context }) => context.n + 1 }) },
        DONE: 'done',
      },
    },
    done: { type: 'final' },
  },
});

/** `n` throws at 2 and is the wrong type at 3; `label` is always fine. */
const fragile = workflow(counter, { searchAttributes: {
  n: { type: 'number', from: (ctx) => {
    if (ctx.n === 2) throw new Error('two is not allowed');
    return ctx.n === 3 ? 'three' : ctx.n;
  } },
  label: { type: 'keyword', from: (ctx) => `${ctx.label}-${ctx.n}` },
} });

describe('search attributes in the engine', () => {
  let t: TestEngine | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('leaves an attribute unset while its mapping throws or returns the wrong type, and the run goes on', async () => {
    t = await createTestEngine({ workflows: [fragile] });
    const { engine } = t;
    await engine.start('counter', { workflowId: 'c-1' });
    const attrs = async () => (await engine.describe({ workflowId: 'c-1' })).searchAttributes;
    expect(await attrs()).toEqual({ n: 0, label: 'start-0' });
    await engine.signal({ workflowId: 'c-1' }, { type: 'INC' });
    await engine.signal({ workflowId: 'c-1' }, { type: 'INC' });
    expect(await attrs()).toEqual({ label: 'start-2' }); // threw: unset, not the stale 1
    expect((await engine.list({ searchAttributes: { n: 1 } })).runs).toEqual([]);
    await engine.signal({ workflowId: 'c-1' }, { type: 'INC' });
    expect(await attrs()).toEqual({ label: 'start-3' });
    await engine.signal({ workflowId: 'c-1' }, { type: 'INC' });
    expect(await attrs()).toEqual({ n: 4, label: 'start-4' });
    await engine.signal({ workflowId: 'c-1' }, { type: 'DONE' });
    expect((await engine.result({ workflowId: 'c-1' })).status).toBe('completed');
    expect((await engine.list({ status: 'completed', searchAttributes: { n: { gte: 4 } } })).runs.map((r) => r.workflowId)).toEqual(['c-1']);
  });

  it('gives a reset run the attributes of the state it was reset to', async () => {
    t = await createTestEngine({ workflows: [customerOrderWorkflow] });
    const { engine } = t;
    await engine.start('customerOrder', { workflowId: 'o-1', input: { customerId: 'c-9' } });
    await engine.signal({ workflowId: 'o-1' }, { type: 'ADD_ITEM', sku: 'a', price: 10 });
    await engine.signal({ workflowId: 'o-1' }, { type: 'ADD_ITEM', sku: 'b', price: 90 });
    expect((await engine.describe({ workflowId: 'o-1' })).searchAttributes).toMatchObject({ amount: 100 });
    const second = (await engine.history({ workflowId: 'o-1' })).filter((e) => e.kind === 'SignalReceived')[0]!;
    const { runId } = await engine.reset({ workflowId: 'o-1' }, { eventSeq: second.seq });
    const described = await engine.describe({ workflowId: 'o-1' });
    expect(described.runId).toBe(runId);
    expect(described.searchAttributes).toEqual({ customerId: 'c-9', amount: 10, expedited: false });
    expect((await engine.list({ status: 'running', searchAttributes: { customerId: 'c-9' } })).runs.map((r) => r.runId)).toEqual([runId]);
    expect((await engine.list({ status: 'terminated', searchAttributes: { amount: 100 } })).runs.map((r) => r.workflowId)).toEqual(['o-1']);
  });

  it('refuses to start with two workflows that give one attribute name two types', async () => {
    const other = workflow(setup({}).createMachine({ id: 'other' }), { searchAttributes: { amount: { type: 'keyword', from: () => 'x' } } });
    await expect(createTestEngine({ workflows: [customerOrderWorkflow, other] }))
      .rejects.toMatchObject({ code: 'INVALID_DEFINITION', message: expect.stringMatching(/search attribute "amount" is declared as keyword here and as number by "customerOrder"@/) });
  });
});
