import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { healthz, WireClient } from '../helpers/wire-client.ts';

// Inline actions run after their step is committed (at least once). One that fails must be
// logged with its run, state and action, and must never take the server down (issue 15, bug 1).

let server: ServerProcess;
let client: WireClient;

beforeAll(async () => {
  server = await startServerProcess({ logToStderr: true });
  client = await WireClient.connect(server.wsUrl);
});

afterAll(async () => {
  client?.close();
  await server?.cleanup();
});

/** The log line (JSON, on the server's stderr) that reports a failed inline action of `runId`, once it is written. */
async function failureLogged(runId: string, state: string): Promise<Record<string, unknown>> {
  for (;;) {
    const line = server.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((entry) => entry.runId === runId && entry.state === state);
    if (line) return line;
    if (server.child.exitCode !== null) throw new Error(`the server exited (${server.child.exitCode}):\n${server.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a failing inline action', () => {
  it('logs the rejection of an async action with run, state and action, and the server goes on', async () => {
    const { workflowId, runId } = await client.start('failingActions', { workflowId: `reject-${Date.now()}` });
    await client.call('signal', { workflowId, event: { type: 'REJECT' } });
    const logged = await failureLogged(runId, '"rejected"');
    expect(logged).toMatchObject({ level: 50, workflowId, runId, action: expect.any(String) });
    expect(String((logged.err as { message?: string }).message)).toContain('the async action failed');
    // A second run reaching the same step is no threat either (it was a crash loop before).
    const second = await client.start('failingActions', { workflowId: `reject-again-${Date.now()}` });
    await client.call('signal', { workflowId: second.workflowId, event: { type: 'REJECT' } });
    await failureLogged(second.runId, '"rejected"');
    await client.call('signal', { workflowId, event: { type: 'FINISH' } });
    expect((await client.result(workflowId)).status).toBe('completed');
    expect(await healthz(server.url)).toBe(200);
  });

  it('logs a synchronous action that throws, naming it', async () => {
    const { workflowId, runId } = await client.start('failingActions', { workflowId: `throw-${Date.now()}` });
    await client.call('signal', { workflowId, event: { type: 'THROW' } });
    const logged = await failureLogged(runId, '"thrown"');
    expect(logged).toMatchObject({ level: 50, workflowId, runId, action: 'throwAtOnce', namespace: 'default' });
    expect(String(logged.msg)).toContain('throwAtOnce');
    expect(String((logged.err as { message?: string }).message)).toContain('the synchronous action failed');
    await client.call('signal', { workflowId, event: { type: 'FINISH' } });
    expect((await client.result(workflowId)).status).toBe('completed');
  });
});
