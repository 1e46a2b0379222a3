import { afterEach, describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { flakyActivities, flakyWorkflow } from '../../machines/flaky.ts';
import { createTestEngine, createTestEnvironment, replayHistory, TestClock, type TestEngine } from '../../src/testing/index.ts';
import type { HistoryEvent } from '../../src/index.ts';
import { Client } from '../../src/client/index.ts';

const DAY = 86_400_000;
const START = Date.UTC(2030, 0, 1);

function fired(history: HistoryEvent[]): { at: number; dueAt: number }[] {
  return history.flatMap((e) => (e.kind === 'TimerFired' ? [{ at: e.at, dueAt: e.dueAt }] : []));
}

describe('testing kit: time skipping', () => {
  let t: TestEngine | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('expires a one-day approval in well under a second, recorded at exactly start + 1 day, the reminder at + 12 h', async () => {
    const real = performance.now();
    const k = await createTestEngine({ workflows: [approvalWorkflow], timeSkipping: true, startAt: START });
    t = k;
    const { workflowId } = await k.engine.start('approval', { input: { request: 'desk', timeoutMs: DAY } });
    const result = await k.engine.result({ workflowId });
    expect(performance.now() - real).toBeLessThan(1000);
    expect(result.output).toEqual({ request: 'desk', decision: 'expired', approver: null, decidedAt: START + DAY, reminders: 1 });
    const history = await k.engine.history({ workflowId });
    expect(history[0]!.at).toBe(START);
    expect(fired(history)).toEqual([{ at: START + DAY / 2, dueAt: START + DAY / 2 }, { at: START + DAY, dueAt: START + DAY }]);
    expect(history.at(-1)).toMatchObject({ kind: 'WorkflowCompleted', at: START + DAY });
    expect(k.clock.now()).toBe(START + DAY);
    expect(replayHistory(approvalWorkflow, history).ok).toBe(true);
  });

  it('keeps time still until the test skips it: a signal sent after 12 h is recorded at + 12 h', async () => {
    const k = await createTestEngine({ workflows: [approvalWorkflow], timeSkipping: true, startAt: START });
    t = k;
    const { workflowId } = await k.engine.start('approval', { input: { request: 'chair', timeoutMs: DAY } });
    await k.skip('12h');
    expect(await k.engine.query({ workflowId })).toMatchObject({ value: 'waiting', context: { reminders: 1 } });
    await k.skip('1h');
    await k.engine.signal({ workflowId }, { type: 'APPROVE', approver: 'ana' });
    const result = await k.engine.result({ workflowId });
    expect(result.output).toMatchObject({ decision: 'approved', approver: 'ana', decidedAt: START + 13 * 3_600_000, reminders: 1 });
    const history = await k.engine.history({ workflowId });
    expect(fired(history)).toEqual([{ at: START + DAY / 2, dueAt: START + DAY / 2 }]);
    expect(history.filter((e) => e.kind === 'TimerCanceled')).toHaveLength(1);
    expect(replayHistory(approvalWorkflow, history).ok).toBe(true);
  });

  it('runs the flaky activity\'s retries with backoff on virtual time: each attempt at exactly its backoff', async () => {
    const env = await createTestEnvironment({
      workflows: [flakyWorkflow], workers: [{ taskQueue: 'flaky', activities: flakyActivities }], timeSkipping: true, startAt: START,
    });
    t = env;
    const { workflowId } = await env.engine.start('flaky', { input: { key: 'k', failTimes: 3 } });
    const result = await env.engine.result({ workflowId });
    expect(result.output).toEqual({ answer: 'answer-for-k', attempts: 4, error: null });
    const history = await env.engine.history({ workflowId });
    const failures = history.flatMap((e) => (e.kind === 'ActivityAttemptFailed' ? [e] : []));
    // Attempts fail at once (no real time passes on the virtual clock); backoff 50, 100, 200 ms.
    expect(failures.map((e) => e.nextAttemptAt - START)).toEqual([50, 150, 350]);
    expect(failures.map((e) => e.at - START)).toEqual([0, 50, 150]);
    expect(history.find((e) => e.kind === 'ActivityCompleted')!.at).toBe(START + 350);
    expect(replayHistory(flakyWorkflow, history).ok).toBe(true);
  });

  it('gives up after the last attempt, still on virtual time', async () => {
    const env = await createTestEnvironment({
      workflows: [flakyWorkflow], workers: [{ taskQueue: 'flaky', activities: flakyActivities }], timeSkipping: true, startAt: START,
    });
    t = env;
    const { workflowId } = await env.engine.start('flaky', { input: { key: 'k', failTimes: 10 } });
    const result = await env.engine.result({ workflowId });
    expect(result.output).toMatchObject({ answer: null, error: { retryState: 'maximumAttemptsReached' } });
    const history = await env.engine.history({ workflowId });
    expect(history.find((e) => e.kind === 'ActivityFailed')!.at).toBe(START + 50 + 100 + 200 + 400);
    expect(replayHistory(flakyWorkflow, history).ok).toBe(true);
  });

  it('times an activity out on virtual time once it holds time past activityHoldMs', async () => {
    const env = await createTestEnvironment({
      workflows: [flakyWorkflow], timeSkipping: true, startAt: START, activityHoldMs: 50,
      // Hangs until it is cancelled: only the 5 s start-to-close timeout ends each attempt.
      workers: [{ taskQueue: 'flaky', activities: { flakyCall: (_input: unknown, ctx: { signal: AbortSignal }) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))) } }],
    });
    t = env;
    const { workflowId } = await env.engine.start('flaky', { input: { key: 'k', failTimes: 0 } });
    const result = await env.engine.result({ workflowId });
    expect(result.output).toMatchObject({ answer: null, error: { retryState: 'maximumAttemptsReached' } });
    const history = await env.engine.history({ workflowId });
    const timeouts = history.flatMap((e) => (e.kind === 'ActivityAttemptFailed' ? [e.at - START] : []));
    expect(timeouts).toEqual([5000, 5000 + 50 + 5000, 5000 + 50 + 5000 + 100 + 5000, 5000 + 50 + 5000 + 100 + 5000 + 200 + 5000]);
  });

  it('keeps virtual time across a restart: a timer due while "down" fires when time is skipped', async () => {
    const k = await createTestEngine({ workflows: [approvalWorkflow], timeSkipping: true, startAt: START });
    t = k;
    const { workflowId } = await k.engine.start('approval', { input: { request: 'lamp', timeoutMs: DAY } });
    await k.restart();
    expect(await k.runUntilIdle()).toBe(2);
    expect((await k.engine.result({ workflowId })).output).toMatchObject({ decision: 'expired', decidedAt: START + DAY });
  });

  it('refuses skip() without timeSkipping, and a real-time engine still works as before', async () => {
    const k = await createTestEngine({ workflows: [approvalWorkflow] });
    t = k;
    await expect(k.skip('1d')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const before = Date.now();
    const { workflowId } = await k.engine.start('approval', { input: { request: 'real', timeoutMs: 100 } });
    const result = await k.engine.result({ workflowId }, { timeoutMs: 10_000 });
    expect(result.output).toMatchObject({ decision: 'expired', reminders: 1 });
    const expiry = fired(await k.engine.history({ workflowId })).at(-1)!;
    expect(expiry.at).toBeGreaterThanOrEqual(expiry.dueAt);
    expect(expiry.dueAt).toBeGreaterThanOrEqual(before + 100);
  });
});

describe('testing kit: a test server', () => {
  it('serves the engine on a free port for a Client, with in-process workers, across a restart', async () => {
    const env = await createTestEnvironment({ workflows: [flakyWorkflow], workers: [{ taskQueue: 'flaky', activities: flakyActivities }], server: true });
    let client: Client | undefined;
    try {
      expect(env.server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      client = await Client.connect({ address: env.server!.url });
      const handle = await client.start('flaky', { workflowId: 'via-server', input: { key: 's', failTimes: 1 } });
      expect(await handle.result({ timeoutMs: 10_000 })).toMatchObject({ answer: 'answer-for-s', attempts: 2 });
      const port = env.server!.port;
      await env.restart();
      expect(env.server!.port).toBe(port);
      expect(replayHistory(flakyWorkflow, await env.engine.history({ workflowId: 'via-server' })).ok).toBe(true);
    } finally {
      await client?.close();
      await env.cleanup();
    }
  });

  it('runs a server on virtual time: a client waiting for a day-long timer gets its result at once', async () => {
    const env = await createTestEnvironment({ workflows: [approvalWorkflow], server: true, timeSkipping: true });
    let client: Client | undefined;
    try {
      client = await Client.connect({ address: env.server!.url });
      const day = 86_400_000;
      const before = env.clock.now();
      const handle = await client.start('approval', { workflowId: 'slow-approval', input: { request: 'visa', timeoutMs: day } });
      // The client's timeout is real time; the server skips the day's timers whenever it is idle,
      // which on a busy machine can take a few seconds of real time.
      expect(await handle.result({ timeoutMs: 25_000 })).toMatchObject({ decision: 'expired', reminders: 1 });
      const fired = (await handle.history()).filter((e) => e.kind === 'TimerFired');
      expect(fired.map((e) => e.at - before)).toEqual([day / 2, day]);
      await env.restart(); // the same virtual clock goes on
      expect(env.clock.now() - before).toBe(day);
    } finally {
      await client?.close();
      await env.cleanup();
    }
  });

  it('refuses a clock together with time skipping, saying why', async () => {
    await expect(createTestEnvironment({ workflows: [flakyWorkflow], server: true, timeSkipping: true, clock: new TestClock() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
