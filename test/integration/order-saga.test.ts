import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderWorkflow } from '../../machines/order.ts';
import { orderActivityImplementations } from '../../machines/order-activities.ts';
import { createTestEngine, replayHistory, type TestEngine } from '../../src/testing/index.ts';
import { kinds, runWorker, seqs } from '../helpers/engine.ts';

describe('a worker that connects after work is waiting', () => {
  it('takes the queued tasks and completes them', async () => {
    const t = await createTestEngine({ workflows: [orderWorkflow] });
    try {
      const { workflowId } = await t.engine.start('order', { input: { orderId: 'late', amount: 1, items: [] } });
      runWorker(t.engine, 'orders', orderActivityImplementations());
      expect((await t.engine.result({ workflowId })).output).toMatchObject({ outcome: 'shipped' });
    } finally {
      await t.cleanup();
    }
  });
});

describe('order saga on the engine', () => {
  let t: TestEngine;
  beforeEach(async () => {
    t = await createTestEngine({ workflows: [orderWorkflow] });
    runWorker(t.engine, 'orders', orderActivityImplementations());
  });
  afterEach(() => t.cleanup());

  it('charges, reserves and ships, then completes with the machine output', async () => {
    const { workflowId } = await t.engine.start('order', { workflowId: 'o-1', input: { orderId: 'o-1', amount: 42, items: ['book'] } });
    const result = await t.engine.result({ workflowId });
    expect(result).toEqual({ status: 'completed', finalState: 'shipped', output: { orderId: 'o-1', outcome: 'shipped', chargeId: 'ch_o-1', trackingId: 'trk_o-1' }, failure: undefined });
    const history = await t.engine.history({ workflowId });
    expect(kinds(history)).toEqual([
      'WorkflowStarted', 'ActivityScheduled',
      'ActivityCompleted', 'ActivityScheduled',
      'ActivityCompleted', 'ActivityScheduled',
      'ActivityCompleted', 'WorkflowCompleted',
    ]);
    expect(seqs(history)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('compensates in reverse when shipping fails for good', async () => {
    const { workflowId } = await t.engine.start('order', { input: { orderId: 'o-2', amount: 10, items: ['pen'], failAt: 'ship' } });
    const result = await t.engine.result({ workflowId });
    expect(result.output).toMatchObject({ outcome: 'compensated', chargeId: 'ch_o-2', trackingId: null });
    const scheduled = (await t.engine.history({ workflowId })).flatMap((e) => (e.kind === 'ActivityScheduled' ? [e.activityType] : []));
    expect(scheduled).toEqual(['chargeCard', 'reserveInventory', 'shipOrder', 'releaseInventory', 'refundCard']);
  });

  it('delivers the last failure to the machine as a typed ActivityFailure with its cause', async () => {
    const { workflowId } = await t.engine.start('order', { input: { orderId: 'o-3', amount: 10, items: [], failAt: 'charge' } });
    expect((await t.engine.result({ workflowId })).output).toMatchObject({ outcome: 'declined' });
    // Completed, but in its declined final state: describe and the listing say which.
    expect(await t.engine.describe({ workflowId })).toMatchObject({ status: 'completed', finalState: 'declined' });
    expect((await t.engine.list({})).runs).toContainEqual(expect.objectContaining({ workflowId, status: 'completed', finalState: 'declined' }));
    const failed = (await t.engine.history({ workflowId })).find((e) => e.kind === 'ActivityFailed');
    expect(failed).toMatchObject({
      kind: 'ActivityFailed', activityId: 'charge',
      failure: { code: 'ACTIVITY_FAILURE', activityType: 'chargeCard', retryState: 'nonRetryableFailure', cause: { code: 'APPLICATION_FAILURE', type: 'Refused', nonRetryable: true } },
    });
  });

  it('replays every history to the stored snapshot', async () => {
    const inputs = [{ failAt: undefined }, { failAt: 'reserve' as const }, { failAt: 'ship' as const }];
    for (const [i, extra] of inputs.entries()) {
      const { workflowId } = await t.engine.start('order', { input: { orderId: `r-${i}`, amount: 1, items: [], ...extra } });
      await t.engine.result({ workflowId });
      const history = await t.engine.history({ workflowId });
      const run = await t.engine.store.getRun((await t.engine.describe({ workflowId })).runId);
      expect(replayHistory(orderWorkflow, history, { storedSnapshot: run!.snapshot })).toMatchObject({ ok: true });
    }
  });
});
