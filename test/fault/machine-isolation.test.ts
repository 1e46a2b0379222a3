import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

// Issue 11: one execution's machine code (an eventless loop, a throwing guard) must not take the
// server down. A real server process, spoken to over HTTP like a user would.

describe('a server process running a machine that loops or throws', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // The loop must meet the microstep limit (the default), not the time budget, however busy
    // the machine running the tests is; the time budget has its own tests on a fake clock.
    server = await startServerProcess({ stepLimits: { timeBudgetMs: 600_000 } });
  });
  afterAll(() => server.cleanup());

  const api = (path: string) => `${server.url}/api/v1/namespaces/default${path}`;
  async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(api(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  }
  const describeRun = async (workflowId: string) => (await (await fetch(api(`/workflows/${workflowId}`))).json()) as Record<string, unknown>;
  const healthz = async () => (await fetch(`${server.url}/healthz`)).json();

  /** Another workflow type, started and run to completion: the server still serves everyone else. */
  async function bystanderCompletes(workflowId: string): Promise<void> {
    expect((await post('/workflows', { type: 'bystander', workflowId })).status).toBe(201);
    expect((await post(`/workflows/${workflowId}/signal`, { event: { type: 'FINISH' } })).status).toBe(202);
    const result = await (await fetch(api(`/workflows/${workflowId}/result?wait=10s`))).json();
    expect(result).toMatchObject({ status: 'completed' });
  }

  it('stops the eventless loop with MICROSTEP_LIMIT_EXCEEDED while other workflows and /healthz are served', async () => {
    expect((await post('/workflows', { type: 'spinner', workflowId: 'spin-1' })).status).toBe(201);
    // The loop, another workflow's whole life and a health check, all at once.
    const [signalled] = await Promise.all([
      post('/workflows/spin-1/signal', { event: { type: 'GO' } }),
      bystanderCompletes('during-spin'),
      expect(healthz()).resolves.toEqual({ status: 'ok' }),
    ]);
    expect(signalled).toMatchObject({ status: 409, body: { code: 'MICROSTEP_LIMIT_EXCEEDED', message: expect.stringMatching(/stopped at state "spin2?".*limit maxMicrosteps/s) } });

    const run = await describeRun('spin-1');
    expect(run).toMatchObject({ status: 'blocked', blockedReason: expect.stringContaining('MICROSTEP_LIMIT_EXCEEDED'), historyLength: 1 });
    await bystanderCompletes('after-spin');
    expect(await healthz()).toEqual({ status: 'ok' });
  });

  it('blocks the run whose guard throws with MACHINE_CODE_FAILED, and keeps serving', async () => {
    expect((await post('/workflows', { type: 'brittle', workflowId: 'brittle-1' })).status).toBe(201);
    const signalled = await post('/workflows/brittle-1/signal', { event: { type: 'GO' } });
    expect(signalled).toMatchObject({ status: 409, body: { code: 'MACHINE_CODE_FAILED', message: expect.stringContaining('the ready guard exploded') } });
    expect(await describeRun('brittle-1')).toMatchObject({ status: 'blocked', blockedReason: expect.stringContaining('stopped at state "idle"') });
    await bystanderCompletes('after-brittle');
    expect(await healthz()).toEqual({ status: 'ok' });
  });

  it('stops cleanly on SIGTERM with the blocked runs in memory', async () => {
    expect(await server.stop()).toBe(0);
  });
});
