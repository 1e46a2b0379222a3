import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

describe('reset over the API', () => {
  let server: ServerProcess;
  let client: Client;
  beforeAll(async () => {
    server = await startServerProcess();
    client = await Client.connect({ address: server.url });
  });
  afterAll(async () => {
    await client?.close();
    await server?.cleanup();
  });

  const api = (path: string, init?: RequestInit) => fetch(`${server.url}/api/v1/namespaces/default/workflows${path}`, {
    ...init, headers: { 'content-type': 'application/json' },
  });

  it('resets through HTTP to the state after an event, answering with the new run', async () => {
    await api('', { method: 'POST', body: JSON.stringify({ type: 'approval', workflowId: 'http-reset', input: { request: 'r', timeoutMs: 60_000 } }) });
    await api('/http-reset/signal', { method: 'POST', body: JSON.stringify({ event: { type: 'REJECT', approver: 'x' } }) });
    const reset = await api('/http-reset/reset', { method: 'POST', body: JSON.stringify({ eventSeq: 1, reason: 'try again' }) });
    expect(reset.status).toBe(200);
    const { runId } = (await reset.json()) as { runId: string };
    const described = (await (await api('/http-reset')).json()) as { runId: string; status: string; state: { value: unknown } };
    expect(described).toMatchObject({ runId, status: 'running', state: { value: 'waiting' } });
  });

  it('answers a bad eventSeq with 400 INVALID_ARGUMENT naming the field', async () => {
    await api('', { method: 'POST', body: JSON.stringify({ type: 'approval', workflowId: 'http-reset-bad', input: { request: 'r', timeoutMs: 60_000 } }) });
    const reply = await api('/http-reset-bad/reset', { method: 'POST', body: JSON.stringify({ eventSeq: 'one' }) });
    expect(reply.status).toBe(400);
    expect(await reply.json()).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('eventSeq') });
  });

  it('resets through a client handle, which then follows the new run', async () => {
    const handle = await client.start('approval', { workflowId: 'sdk-reset', input: { request: 'r', timeoutMs: 60_000 } });
    await handle.signal({ type: 'APPROVE', approver: 'a' });
    await handle.result();
    const { runId } = await handle.reset(1);
    expect((await handle.describe()).runId).toBe(runId);
    await handle.signal({ type: 'REJECT', approver: 'b' });
    expect(await handle.result()).toMatchObject({ decision: 'rejected', approver: 'b' });
  });
});
