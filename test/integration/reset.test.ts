import { afterEach, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { orderWorkflow } from '../../machines/order.ts';
import { orderActivityImplementations } from '../../machines/order-activities.ts';
import { createTestEngine, replayHistory, type TestEngine } from '../../src/testing/index.ts';
import { kinds, runWorker } from '../helpers/engine.ts';

const input = { request: 'laptop', timeoutMs: 60_000 };

describe('reset', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('starts a new run from the state after the chosen event; a closed run is left as it was', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId, runId: oldRunId } = await t.engine.start('approval', { input });
    await t.engine.signal({ workflowId }, { type: 'REJECT', approver: 'bo' });
    expect((await t.engine.result({ workflowId })).output).toMatchObject({ decision: 'rejected' });

    const { runId } = await t.engine.reset({ workflowId }, { eventSeq: 1, reason: 'rejected by mistake' });
    expect(runId).not.toBe(oldRunId);
    expect(await t.engine.query({ workflowId })).toMatchObject({ status: 'running', value: 'waiting', accepts: ['APPROVE', 'REJECT'] });
    expect((await t.engine.store.getRun(oldRunId))!.status).toBe('completed');

    const history = await t.engine.history({ workflowId });
    expect(kinds(history)).toEqual(['WorkflowStarted', 'TimerStarted', 'TimerStarted', 'WorkflowReset']);
    expect(history.at(-1)).toMatchObject({ kind: 'WorkflowReset', fromRunId: oldRunId, eventSeq: 1, reason: 'rejected by mistake' });
    const run = await t.engine.store.getRun(runId);
    expect(replayHistory(approvalWorkflow, history, { storedSnapshot: run!.snapshot }).ok).toBe(true);

    await t.engine.signal({ workflowId }, { type: 'APPROVE', approver: 'ana' });
    expect((await t.engine.result({ workflowId })).output).toMatchObject({ decision: 'approved', approver: 'ana' });
  });

  it('terminates an open run, naming the new run in both histories, and re-arms its timers', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId, runId: oldRunId } = await t.engine.start('approval', { input: { request: 'x', timeoutMs: 300 } });
    const { runId } = await t.engine.reset({ workflowId }, { eventSeq: 1 });
    const old = await t.engine.store.readHistory(oldRunId);
    expect(old.at(-1)).toMatchObject({ kind: 'WorkflowTerminated', reason: expect.stringContaining(runId) });
    // The copied timers are pending again in the new run: it expires by itself.
    expect((await t.engine.result({ workflowId }, { timeoutMs: 10_000 })).output).toMatchObject({ decision: 'expired' });
  });

  it('runs again the activities pending at the chosen step', async () => {
    t = await createTestEngine({ workflows: [orderWorkflow] });
    runWorker(t.engine, 'orders', orderActivityImplementations());
    const { workflowId } = await t.engine.start('order', { input: { orderId: 'o-9', amount: 5, items: ['x'] } });
    await t.engine.result({ workflowId });
    const chargeDone = (await t.engine.history({ workflowId })).find((e) => e.kind === 'ActivityCompleted')!;
    await t.engine.reset({ workflowId }, { eventSeq: chargeDone.seq });
    expect((await t.engine.result({ workflowId })).output).toMatchObject({ outcome: 'shipped', chargeId: 'ch_o-9' });
    const scheduled = (await t.engine.history({ workflowId })).flatMap((e) => (e.kind === 'ActivityScheduled' ? [e.activityType] : []));
    expect(scheduled).toEqual(['chargeCard', 'reserveInventory', 'shipOrder']);
  });

  it('refuses an event the machine did not take, and a step that closed the run, saying which events it can take', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId } = await t.engine.start('approval', { input });
    await t.engine.signal({ workflowId }, { type: 'APPROVE', approver: 'a' });
    await expect(t.engine.reset({ workflowId }, { eventSeq: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('#1 WorkflowStarted') });
    const signal = (await t.engine.history({ workflowId })).find((e) => e.kind === 'SignalReceived')!;
    await expect(t.engine.reset({ workflowId }, { eventSeq: signal.seq })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('closes the run') });
    await expect(t.engine.reset({ workflowId }, { eventSeq: 99 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
