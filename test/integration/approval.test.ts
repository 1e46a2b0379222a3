import { afterEach, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { createTestEngine, replayHistory, type TestEngine } from '../../src/testing/index.ts';
import { kinds, sleep } from '../helpers/engine.ts';

describe('approval: signals and durable timers', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('completes on APPROVE with the approver and the server time of the signal', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId } = await t.engine.start('approval', { input: { request: 'laptop', timeoutMs: 60_000 } });
    await t.engine.signal({ workflowId }, { type: 'APPROVE', approver: 'ana' });
    const result = await t.engine.result({ workflowId });
    const signal = (await t.engine.history({ workflowId })).find((e) => e.kind === 'SignalReceived')!;
    expect(result.output).toEqual({ request: 'laptop', decision: 'approved', approver: 'ana', decidedAt: signal.at, reminders: 0 });
  });

  it('expires when its timer fires, after the halfway reminder', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId } = await t.engine.start('approval', { input: { request: 'desk', timeoutMs: 200 } });
    const result = await t.engine.result({ workflowId });
    expect(result.output).toMatchObject({ decision: 'expired', approver: null, reminders: 1 });
    const history = await t.engine.history({ workflowId });
    expect(kinds(history).filter((k) => k === 'TimerFired')).toHaveLength(2);
    const fired = history.filter((e) => e.kind === 'TimerFired');
    for (const e of fired) expect(e.at).toBeGreaterThanOrEqual(e.kind === 'TimerFired' ? e.dueAt : 0);
  });

  it('fires a timer that came due while the engine was down, recording the actual fire time', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    // Long enough that the engine is surely stopped before the expiry is due, even on a loaded
    // machine: a stop that came after the timer fired would test nothing (and made this flaky).
    const { workflowId } = await t.engine.start('approval', { input: { request: 'chair', timeoutMs: 1_500 } });
    const started = Date.now(); // no earlier than the run's start time
    await t.engine.stop();
    await sleep(Math.max(0, started + 1_500 + 200 - Date.now()));
    const restartedAt = Date.now();
    await t.restart();
    const result = await t.engine.result({ workflowId }, { timeoutMs: 10_000 });
    expect(result.output).toMatchObject({ decision: 'expired' });
    const expiry = (await t.engine.history({ workflowId })).filter((e) => e.kind === 'TimerFired').at(-1)!;
    if (expiry.kind !== 'TimerFired') throw new Error('no TimerFired');
    expect(expiry.dueAt).toBeLessThan(restartedAt); // it came due while the engine was down
    expect(expiry.at).toBeGreaterThanOrEqual(restartedAt); // and fired after the restart, recorded at that time
    expect(expiry.at - expiry.dueAt).toBeGreaterThanOrEqual(200);
  });

  it('records a signal the current state ignores, without changing the state', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId } = await t.engine.start('approval', { input: { request: 'x', timeoutMs: 60_000 } });
    const before = await t.engine.query({ workflowId });
    await t.engine.signal({ workflowId }, { type: 'NOT_A_THING' });
    const history = await t.engine.history({ workflowId });
    expect(history.at(-1)).toMatchObject({ kind: 'SignalReceived', event: { type: 'NOT_A_THING' } });
    expect(await t.engine.query({ workflowId })).toEqual(before);
  });

  it('answers queries with state value, context, tags, status and the events it accepts now', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId } = await t.engine.start('approval', { input: { request: 'q', timeoutMs: 60_000 } });
    expect(await t.engine.query({ workflowId })).toEqual({
      status: 'running', value: 'waiting', tags: [], accepts: ['APPROVE', 'REJECT'],
      context: { request: 'q', timeoutMs: 60_000, decision: null, approver: null, decidedAt: 0, reminders: 0 },
    });
  });

  it('cancels by default: ends Canceled and cancels its pending timers', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId } = await t.engine.start('approval', { input: { request: 'c', timeoutMs: 60_000 } });
    await t.engine.cancel({ workflowId }, 'no longer needed');
    expect(await t.engine.result({ workflowId })).toMatchObject({ status: 'canceled', failure: { code: 'CANCELLED_FAILURE', message: 'no longer needed' } });
    const history = await t.engine.history({ workflowId });
    expect(kinds(history).slice(-4)).toEqual(['CancelRequested', 'TimerCanceled', 'TimerCanceled', 'WorkflowCanceled']);
    expect(await t.engine.store.listDueTimers(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    expect(replayHistory(approvalWorkflow, history).ok).toBe(true);
  });

  it('applies an update the state accepts and returns the new state; refuses one it does not, leaving no trace', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId } = await t.engine.start('approval', { input: { request: 'u', timeoutMs: 60_000 } });
    const length = (await t.engine.history({ workflowId })).length;
    await expect(t.engine.update({ workflowId }, { type: 'ESCALATE' })).rejects.toMatchObject({ code: 'UPDATE_REJECTED' });
    expect(await t.engine.history({ workflowId })).toHaveLength(length);
    const state = await t.engine.update({ workflowId }, { type: 'REJECT', approver: 'bo' });
    expect(state).toMatchObject({ status: 'completed', value: 'rejected', context: { approver: 'bo', decision: 'rejected' } });
  });

  it('terminates at once with a reason; a closed execution refuses further signals', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId } = await t.engine.start('approval', { input: { request: 't', timeoutMs: 60_000 } });
    await t.engine.terminate({ workflowId }, 'operator said so');
    expect(await t.engine.result({ workflowId })).toMatchObject({ status: 'terminated', failure: { code: 'TERMINATED_FAILURE' } });
    await expect(t.engine.signal({ workflowId }, { type: 'APPROVE', approver: 'late' })).rejects.toMatchObject({ code: 'EXECUTION_CLOSED' });
    expect(await t.engine.store.listDueTimers(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });
});
