import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { UpdateRejectedError } from '../../src/client/index.ts';
import { InvalidDefinitionError, workflow } from '../../src/index.ts';
import { serverWithClient } from '../helpers/server-client.ts';

describe('updates with validation', () => {
  const ctx = serverWithClient();

  it('accepts an update its validator allows, and refuses one it does not with the reason, leaving no trace', async () => {
    const cart = await ctx.client.start('cart', { workflowId: 'cart-1', input: { maxItems: 2 } });
    const after = await cart.update({ type: 'ADD_ITEM', sku: 'tea', quantity: 2 });
    expect(after.context).toMatchObject({ lines: [{ sku: 'tea', quantity: 2 }] });
    const historyBefore = await cart.history();

    const zero = cart.update({ type: 'ADD_ITEM', sku: 'cup', quantity: 0 });
    await expect(zero).rejects.toBeInstanceOf(UpdateRejectedError);
    await expect(zero).rejects.toMatchObject({ code: 'UPDATE_REJECTED', message: expect.stringMatching(/quantity must be 1–10, got 0/) });
    await cart.update({ type: 'ADD_ITEM', sku: 'pot', quantity: 1 });
    await expect(cart.update({ type: 'ADD_ITEM', sku: 'cup', quantity: 1 })).rejects.toMatchObject({ message: expect.stringMatching(/the cart is full \(2 lines\)/) });

    const history = await cart.history();
    expect(history.slice(0, historyBefore.length)).toEqual(historyBefore);
    expect(history.filter((e) => e.kind === 'UpdateAccepted')).toHaveLength(2);
    expect((await cart.describe()).state.context).toMatchObject({ lines: [{ sku: 'tea' }, { sku: 'pot' }] });
  });

  it('refuses an update the state cannot take (a guard that says no), over HTTP too', async () => {
    await ctx.client.start('cart', { workflowId: 'cart-2' });
    const response = await fetch(`${ctx.server.url}/api/v1/namespaces/default/workflows/cart-2/update`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: { type: 'CHECKOUT' } }),
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 'UPDATE_REJECTED', message: expect.stringMatching(/does not accept "CHECKOUT"/) });
    expect((await ctx.client.getHandle('cart-2').history()).map((e) => e.kind)).toEqual(['WorkflowStarted']);
  });

  it('refuses to register a validator that names no guard', () => {
    const machine = setup({ guards: { ok: () => true } }).createMachine({ id: 'v', on: { GO: {} } });
    expect(() => workflow(machine, { updateValidators: { GO: 'missing' } })).toThrow(InvalidDefinitionError);
    expect(() => workflow(machine, { updateValidators: { GO: 'missing' } })).toThrow(/updateValidators.GO: expected a guard name of setup\(\{ guards \}\) \(ok\)/);
    expect(workflow(machine, { updateValidators: { GO: 'ok' } }).updateValidators).toEqual({ GO: 'ok' });
  });
});
