import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

// Error bodies of the HTTP API, from a real server process: `{ code, message }` where the code is
// its own field and the message says what to send instead.

const WF = '/api/v1/namespaces/default/workflows';

describe('HTTP API error bodies', () => {
  let server: ServerProcess;
  const post = async (path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { code: string; message: string } };
  };

  beforeAll(async () => {
    server = await startServerProcess();
    await post(WF, { type: 'approval', workflowId: 'e-1', input: { request: 'laptop', timeoutMs: 3_600_000 } });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('never starts a message with its code, for errors of the engine, of validation, of routing and of parsing', async () => {
    const unknownRoute = await fetch(`${server.url}/api/v1/nowhere`);
    const answers = [
      await post(WF, { type: 'invoice' }),
      await post(WF, { workflowId: 42 }),
      await post(`${WF}/ghost/signal`, { event: { type: 'APPROVE' } }),
      await post(WF, '{not json'),
      { status: unknownRoute.status, body: (await unknownRoute.json()) as { code: string; message: string } },
    ];
    expect(answers.map((a) => a.body.code)).toEqual(['WORKFLOW_TYPE_NOT_FOUND', 'INVALID_ARGUMENT', 'EXECUTION_NOT_FOUND', 'INVALID_ARGUMENT', 'NOT_FOUND']);
    for (const { body } of answers) {
      expect(body.message).not.toMatch(/^[A-Z_]+: /);
      expect(body.message.length).toBeGreaterThan(10);
    }
  });

  it('names the registered types and the server\'s --workflows module for an unknown type', async () => {
    const { status, body } = await post(WF, { type: 'invoice' });
    expect(status).toBe(404);
    expect(body.message).toMatch(/^no workflow type "invoice" is registered \(registered: [^)]*\bapproval\b/);
    expect(body.message).toContain('--workflows');
  });

  it('shows the expected shape for a signal or update body without "event"', async () => {
    for (const op of ['signal', 'update']) {
      const empty = await post(`${WF}/e-1/${op}`, {});
      expect(empty.status, op).toBe(400);
      expect(empty.body).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('body: expected a JSON object like { "event": { "type": "APPROVE", … } }') });
      // The usual slip: the event itself as the body.
      const bare = await post(`${WF}/e-1/${op}`, { type: 'APPROVE', approver: 'ann' });
      expect(bare.status, op).toBe(400);
      expect(bare.body.message).toContain('the event goes inside "event"');
    }
    const none = await post(`${WF}/e-1/signal`, '');
    expect(none.body.message).toMatch(/^body: expected a JSON object like \{ "event"/);
  });

  it('answers a refused WebSocket upgrade with the same body shape', async () => {
    // fetch refuses upgrade headers: a plain node:http request makes the upgrade.
    const text = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(`${server.url}/not-ws`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      request.on('response', (response) => {
        let data = '';
        response.on('data', (chunk) => (data += chunk));
        response.on('end', () => resolve(data));
      });
      request.on('error', reject);
      request.end();
    });
    const body = JSON.parse(text) as { code: string; message: string };
    expect(body.code).toBe('NOT_FOUND');
    expect(body.message).not.toMatch(/^NOT_FOUND: /);
  });
});
