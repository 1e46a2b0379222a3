import { afterEach, describe, expect, it } from 'vitest';
import { threeStepWorkflow } from '../../machines/three-step.ts';
import { approvalWorkflow } from '../../machines/approval.ts';
import { PayloadTooLargeError } from '../../src/index.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';
import { runWorker } from '../helpers/engine.ts';

describe('payload size limits', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('refuses an input or event over maxPayloadBytes with PAYLOAD_TOO_LARGE, recording nothing', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow], maxPayloadBytes: 1_000 });
    const big = 'x'.repeat(1_000);
    await expect(t.engine.start('approval', { workflowId: 'big', input: { request: big, timeoutMs: 1_000 } })).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(t.engine.start('approval', { workflowId: 'big', input: { request: big, timeoutMs: 1_000 } })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/^PAYLOAD_TOO_LARGE: input is \d+ bytes as JSON, more than the limit of 1000/),
    });
    expect((await t.engine.list()).runs).toEqual([]);

    await t.engine.start('approval', { workflowId: 'small', input: { request: 'desk', timeoutMs: 60_000 } });
    const recorded = (await t.engine.history({ workflowId: 'small' })).length;
    await expect(t.engine.signal({ workflowId: 'small' }, { type: 'APPROVE', approver: big })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expect(t.engine.signalWithStart('approval', { workflowId: 'small', event: { type: 'APPROVE', approver: big } })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await t.engine.history({ workflowId: 'small' })).toHaveLength(recorded);
  });

  it('fails an activity attempt whose output is too large, without retrying it', async () => {
    t = await createTestEngine({ workflows: [threeStepWorkflow], maxPayloadBytes: 1_000 });
    let calls = 0;
    const worker = runWorker(t.engine, 'bench', {
      step1: async () => { calls++; return 'y'.repeat(2_000); },
      step2: async () => 'ok', step3: async () => 'ok',
    });
    try {
      await t.engine.start('threeStep', { workflowId: 'fat-output' });
      const result = await t.engine.result({ workflowId: 'fat-output' }, { timeoutMs: 5_000 });
      expect(result.status).toBe('failed');
      const failed = (await t.engine.history({ workflowId: 'fat-output' })).find((e) => e.kind === 'ActivityFailed');
      expect(failed).toMatchObject({ failure: { code: 'ACTIVITY_FAILURE', retryState: 'nonRetryableFailure', cause: { type: 'PAYLOAD_TOO_LARGE' } } });
      expect(calls).toBe(1);
    } finally {
      await worker.shutdown();
    }
  });
});
