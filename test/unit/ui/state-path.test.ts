import { describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../../machines/approval.ts';
import { orderWorkflow } from '../../../machines/order.ts';
import { orderActivityImplementations } from '../../../machines/order-activities.ts';
import { createTestEngine } from '../../../src/testing/index.ts';
import { statePath } from '../../../src/hub/web-ui/state-path.ts';
import { eventually, runWorker } from '../../helpers/engine.ts';

describe('statePath', () => {
  it('gives the state after each delivered event of an order saga, found by stepping its history', async () => {
    const t = await createTestEngine({ workflows: [orderWorkflow] });
    const worker = runWorker(t.engine, 'orders', orderActivityImplementations());
    try {
      const { runId } = await t.engine.start('order', { workflowId: 'o-1', input: { orderId: 'o-1', amount: 5, items: ['x'], failAt: 'ship' } });
      await t.engine.result({ workflowId: 'o-1' }, { timeoutMs: 10_000 });
      const path = statePath(orderWorkflow, await t.engine.history({ workflowId: 'o-1' }), undefined, runId);
      expect(path.steps.map((s) => [s.event, s.value])).toEqual([
        ['xstate.init', 'charging'],
        ['xstate.done.actor.charge', 'reserving'],
        ['xstate.done.actor.reserve', 'shipping'],
        ['xstate.error.actor.ship', 'releasing'],
        ['xstate.done.actor.release', 'refunding'],
        ['xstate.done.actor.refund', 'compensated'],
      ]);
      expect(path.stoppedAt).toBeUndefined();
    } finally {
      await worker.shutdown();
      await t.cleanup();
    }
  });

  it('continues from a cursor when the history grew, and starts over for another run', async () => {
    const t = await createTestEngine({ workflows: [approvalWorkflow] });
    try {
      const { runId } = await t.engine.start('approval', { workflowId: 'a-1', input: { request: 'r', timeoutMs: 3_600_000 } });
      const first = statePath(approvalWorkflow, await t.engine.history({ workflowId: 'a-1' }), undefined, runId);
      expect(first.steps.map((s) => s.value)).toEqual(['waiting']);
      await t.engine.signal({ workflowId: 'a-1' }, { type: 'APPROVE', approver: 'ana' });
      await eventually(async () => ((await t.engine.describe({ workflowId: 'a-1' })).status === 'completed' ? true : undefined));
      const history = await t.engine.history({ workflowId: 'a-1' });
      const second = statePath(approvalWorkflow, history, first, runId);
      expect(second.steps.map((s) => [s.event, s.value])).toEqual([['xstate.init', 'waiting'], ['APPROVE', 'approved']]);
      const other = statePath(approvalWorkflow, history, second, 'another-run');
      expect(other.steps).toHaveLength(2);
      expect(other.runId).toBe('another-run');
    } finally {
      await t.cleanup();
    }
  });
});
