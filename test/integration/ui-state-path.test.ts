import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { eventually } from '../helpers/engine.ts';

// The web UI's path route over HTTP: what the browser draws, without a browser (the e2e tests in
// test/e2e need Chromium). It walks each run's history with the engine's stepHistory.
describe('the UI\'s state path over HTTP', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  const api = (path: string, init?: RequestInit) => fetch(`${server.url}/api/v1/namespaces/default/workflows${path}`, {
    ...init, headers: { 'content-type': 'application/json' },
  });
  const path = async (workflowId: string, runId?: string) => (await (await api(`/${workflowId}/path${runId ? `?runId=${runId}` : ''}`)).json()) as {
    runId: string; steps: { event: string; value: unknown }[]; stoppedAt?: number;
  };

  it('gives the states a run went through, and the path of the run a reset made from it', async () => {
    await api('', { method: 'POST', body: JSON.stringify({ type: 'approval', workflowId: 'path-1', input: { request: 'r', timeoutMs: 60_000 } }) });
    await api('/path-1/signal', { method: 'POST', body: JSON.stringify({ event: { type: 'APPROVE', approver: 'ana' } }) });
    const before = await eventually(async () => {
      const found = await path('path-1');
      return found.steps.length === 2 ? found : undefined;
    });
    expect(before.steps.map((s) => [s.event, s.value])).toEqual([['xstate.init', 'waiting'], ['APPROVE', 'approved']]);
    expect(before.stoppedAt).toBeUndefined();

    const reset = await api('/path-1/reset', { method: 'POST', body: JSON.stringify({ eventSeq: 1, reason: 'again' }) });
    expect(reset.status).toBe(200);
    const { runId } = (await reset.json()) as { runId: string };
    const after = await path('path-1');
    expect(after.runId).toBe(runId);
    expect(after.steps.map((s) => [s.event, s.value])).toEqual([['xstate.init', 'waiting']]);
    // The old run's path is still its own.
    expect((await path('path-1', before.runId)).steps).toHaveLength(2);
  });
});
