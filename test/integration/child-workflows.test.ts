import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { fulfillmentWorkflow, shipmentWorkflow } from '../../machines/fulfillment.ts';
import { childWorkflow, workflow, type FailureInfo, type HistoryEvent, type WorkflowDefinition } from '../../src/index.ts';
import { assertReplays } from '../../src/engine/core/replay.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';
import { eventually, kinds } from '../helpers/engine.ts';

describe('child workflows', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  const start = async (orderId: string, workflows: WorkflowDefinition[] = [fulfillmentWorkflow, shipmentWorkflow]) => {
    t = await createTestEngine({ workflows });
    await t.engine.start('fulfillment', { workflowId: `f-${orderId}`, input: { orderId } });
    return { parent: { workflowId: `f-${orderId}` }, child: { workflowId: `shipment-${orderId}` } };
  };
  /**
   * Waits until the child runs and its parent has recorded that it started (ChildWorkflowStarted).
   * Those are two executions' commits: the child's run is visible a moment before the parent's
   * record, so a test that reads the parent must wait for the parent too (issue 13).
   */
  const childStarted = (parent: { workflowId: string }, child: { workflowId: string }) => eventually(async () => {
    const running = (await t.engine.list()).runs.some((r) => r.workflowId === child.workflowId && r.status === 'running');
    const recorded = (await t.engine.describe(parent)).pendingChildren.some((c) => c.workflowId === child.workflowId && c.started);
    return running && recorded ? true : undefined;
  });
  const statusOf = async (ref: { workflowId: string }) => (await t.engine.describe(ref)).status;
  const replays = async (ref: { workflowId: string }, definition: WorkflowDefinition = fulfillmentWorkflow) => {
    const { runId } = await t.engine.describe(ref);
    assertReplays(definition, await t.engine.history(ref), { storedSnapshot: (await t.engine.store.getRun(runId))!.snapshot, workflowId: ref.workflowId });
  };

  it('starts the child as its own execution and hands its output to the parent as xstate.done.actor', async () => {
    const { parent, child } = await start('o-1');
    await childStarted(parent, child);
    const described = await t.engine.describe(child);
    expect(described.parent).toMatchObject({ workflowId: 'f-o-1', childId: 'shipment' });
    expect((await t.engine.describe(parent)).pendingChildren).toEqual([
      expect.objectContaining({ childId: 'shipment', workflowType: 'shipment', workflowId: 'shipment-o-1', runId: described.runId, started: true }),
    ]);

    await t.engine.signal(child, { type: 'PICKED_UP', carrier: 'DHL' });
    await t.engine.signal(child, { type: 'DELIVERED' });
    const result = await t.engine.result(parent, { timeoutMs: 5_000 });

    expect(result).toMatchObject({ status: 'completed', output: { orderId: 'o-1', carrier: 'DHL', failure: null } });
    expect(kinds(await t.engine.history(parent))).toEqual([
      'WorkflowStarted', 'ChildWorkflowScheduled', 'ChildWorkflowStarted', 'ChildWorkflowCompleted', 'WorkflowCompleted',
    ]);
    const completed = (await t.engine.history(parent)).find((e) => e.kind === 'ChildWorkflowCompleted') as Extract<HistoryEvent, { kind: 'ChildWorkflowCompleted' }>;
    expect(completed).toMatchObject({ childId: 'shipment', workflowId: 'shipment-o-1', runId: described.runId, output: { carrier: 'DHL' } });
    await replays(parent);
    await replays(child, shipmentWorkflow);
  });

  it('delivers a child that ends other than completed as a ChildWorkflowFailure whose cause is the child\'s own', async () => {
    const { parent, child } = await start('o-2');
    await childStarted(parent, child);
    await t.engine.cancel(child, 'carrier went bust');

    const result = await t.engine.result(parent, { timeoutMs: 5_000 });
    const failure = (result.output as { failure: FailureInfo }).failure;
    expect(failure).toMatchObject({ code: 'CHILD_WORKFLOW_FAILURE', type: 'shipment', cause: { code: 'CANCELLED_FAILURE', message: 'carrier went bust' } });
    expect(failure.details).toEqual(['shipment-o-2', (await t.engine.describe(child)).runId]);
    expect((await t.engine.query(parent)).value).toBe('shipmentFailed');
    await replays(parent);
  });

  it('leaving the invoking state asks the child to cancel, and the parent no longer waits for it', async () => {
    const { parent, child } = await start('o-3');
    await childStarted(parent, child);
    await t.engine.signal(parent, { type: 'STORE_PICKUP' });

    expect((await t.engine.result(child, { timeoutMs: 5_000 })).status).toBe('canceled');
    expect((await t.engine.query(parent)).value).toBe('storePickup');
    await t.engine.signal(parent, { type: 'COLLECTED' });
    expect(await t.engine.result(parent, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed', output: { carrier: 'store' } });
    const history = kinds(await t.engine.history(parent));
    expect(history).toContain('ChildWorkflowCancelRequested');
    expect(history).not.toContain('ChildWorkflowFailed');
    expect((await t.engine.describe(child)).failure?.message).toMatch(/left the state/);
    await replays(parent);
  });

  it('applies the parent close policy: terminate (default), requestCancel, abandon', async () => {
    const policies = ['terminate', 'requestCancel', 'abandon'] as const;
    const parents = policies.map((policy) => workflow(setup({ actors: { kid: childWorkflow('shipment', { parentClosePolicy: policy }) } }).createMachine({
      id: `parent-${policy}`, initial: 'waiting',
      states: { waiting: { invoke: { id: 'kid', src: 'kid', input: { orderId: policy } } } },
    })));
    t = await createTestEngine({ workflows: [...parents, shipmentWorkflow] });
    for (const policy of policies) await t.engine.start(`parent-${policy}`, { workflowId: `p-${policy}` });
    for (const policy of policies) await childStarted({ workflowId: `p-${policy}` }, { workflowId: `p-${policy}/kid` });
    for (const policy of policies) await t.engine.terminate({ workflowId: `p-${policy}` }, 'operator stop');

    expect((await t.engine.result({ workflowId: 'p-terminate/kid' }, { timeoutMs: 5_000 })).status).toBe('terminated');
    expect((await t.engine.result({ workflowId: 'p-requestCancel/kid' }, { timeoutMs: 5_000 })).status).toBe('canceled');
    // The abandoned child runs on; the two others were closed by their parents' outboxes, which are empty now.
    await eventually(async () => {
      const outboxes = await Promise.all(policies.map(async (p) => Object.keys((await t.engine.store.getRun((await t.engine.describe({ workflowId: `p-${p}` })).runId))!.outbox ?? {})));
      return outboxes.every((o) => o.length === 0) ? true : undefined;
    });
    expect(await statusOf({ workflowId: 'p-abandon/kid' })).toBe('running');
    expect((await t.engine.describe({ workflowId: 'p-terminate/kid' })).failure?.message).toMatch(/its parent p-terminate closed/);
  });

  it('a child the server refuses to start (its workflow id is taken) fails in the parent without being started', async () => {
    t = await createTestEngine({ workflows: [fulfillmentWorkflow, shipmentWorkflow] });
    const squatter = await t.engine.start('shipment', { workflowId: 'shipment-o-4', input: { orderId: 'someone else' } });
    await t.engine.start('fulfillment', { workflowId: 'f-o-4', input: { orderId: 'o-4' } });

    const result = await t.engine.result({ workflowId: 'f-o-4' }, { timeoutMs: 5_000 });
    const failure = (result.output as { failure: FailureInfo }).failure;
    expect(failure).toMatchObject({ code: 'CHILD_WORKFLOW_FAILURE', message: expect.stringMatching(/could not start/), cause: { type: 'ExecutionAlreadyStartedError' } });
    expect((await t.engine.describe({ workflowId: 'shipment-o-4' })).runId).toBe(squatter.runId);
    expect((await t.engine.list()).runs.filter((r) => r.workflowId === 'shipment-o-4')).toHaveLength(1);
  });

  it('survives a restart between the child starting and closing: one child run, the parent completes', async () => {
    const { parent, child } = await start('o-5');
    await childStarted(parent, child);
    await t.restart();
    await t.engine.signal(child, { type: 'PICKED_UP', carrier: 'UPS' });
    await t.engine.signal(child, { type: 'DELIVERED' });

    expect(await t.engine.result(parent, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed', output: { carrier: 'UPS' } });
    expect((await t.engine.list()).runs.filter((r) => r.workflowId === 'shipment-o-5')).toHaveLength(1);
  });

  it('a child that closes while its parent is blocked on a missing version is delivered once the version is back', async () => {
    const { parent, child } = await start('o-7');
    await childStarted(parent, child);
    await t.restart({ workflows: [workflow(fulfillmentWorkflow.machine, { version: 'not-deployed' }), shipmentWorkflow] });
    expect(await statusOf(parent)).toBe('blocked');
    await t.engine.signal(child, { type: 'PICKED_UP', carrier: 'GLS' });
    await t.engine.signal(child, { type: 'DELIVERED' });
    expect((await t.engine.result(child, { timeoutMs: 5_000 })).status).toBe('completed');
    // Give the outbox time to try the notice while the parent is blocked: it must keep it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(Object.keys((await t.engine.store.getRun((await t.engine.describe(child)).runId))!.outbox ?? {})).toEqual(['notifyParent']);

    await t.restart({ workflows: [fulfillmentWorkflow, shipmentWorkflow] });
    expect(await t.engine.result(parent, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', output: { carrier: 'GLS' } });
  });

  it('a reset to before the child closed starts the child again in the new run', async () => {
    const { parent, child } = await start('o-8');
    await childStarted(parent, child);
    await t.engine.signal(child, { type: 'PICKED_UP', carrier: 'DHL' });
    await t.engine.signal(child, { type: 'DELIVERED' });
    await t.engine.result(parent, { timeoutMs: 5_000 });

    const { runId } = await t.engine.reset(parent, { eventSeq: 1, reason: 'ship again' });
    await eventually(async () => ((await t.engine.describe(parent)).pendingChildren[0]?.started ? true : undefined));
    const again = await t.engine.describe(child);
    expect(again.parent).toMatchObject({ runId, childId: 'shipment' });
    await t.engine.signal(child, { type: 'PICKED_UP', carrier: 'UPS' });
    await t.engine.signal(child, { type: 'DELIVERED' });
    expect(await t.engine.result(parent, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed', output: { carrier: 'UPS' } });
  });

  it('a reset of an open parent terminates its running child first, so the new run\'s child can take the same workflow id', async () => {
    const { parent, child } = await start('o-9');
    await childStarted(parent, child);
    const oldChild = (await t.engine.describe(child)).runId;
    const { runId } = await t.engine.reset(parent, { eventSeq: 1, reason: 'again' });

    expect((await t.engine.describe({ ...child, runId: oldChild })).status).toBe('terminated');
    await eventually(async () => ((await t.engine.describe(parent)).pendingChildren[0]?.started ? true : undefined));
    expect((await t.engine.describe(child)).parent).toMatchObject({ runId });
    expect(kinds(await t.engine.history(parent))).not.toContain('ChildWorkflowFailed');
    await t.engine.signal(child, { type: 'PICKED_UP', carrier: 'DPD' });
    await t.engine.signal(child, { type: 'DELIVERED' });
    expect(await t.engine.result(parent, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed', output: { carrier: 'DPD' } });
  });

  it('a workflowId function that throws fails the parent with the reason, and starts nothing', async () => {
    const picky = workflow(setup({
      actors: { kid: childWorkflow<{ orderId?: string }>('shipment', { workflowId: (input) => `s-${input.orderId!.toUpperCase()}` }) },
    }).createMachine({ id: 'picky', initial: 'waiting', states: { waiting: { invoke: { id: 'kid', src: 'kid', input: {} } } } }));
    t = await createTestEngine({ workflows: [picky, shipmentWorkflow] });
    await t.engine.start('picky', { workflowId: 'picky-1' });
    expect(await t.engine.result({ workflowId: 'picky-1' }, { timeoutMs: 5_000 })).toMatchObject({
      status: 'failed', failure: { type: 'InvalidDefinition', message: expect.stringMatching(/child workflow "kid": its workflowId function threw/) },
    });
    expect((await t.engine.list({ type: 'shipment' })).runs).toEqual([]);
  });
});
