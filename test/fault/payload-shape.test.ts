import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRawWorker } from '../helpers/raw-worker.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { healthz, WireClient, WireError, WireSocket } from '../helpers/wire-client.ts';

// Payloads the store could not read back are refused at the boundary (issue 15, bugs 2 and 3):
// nested deeper than the limit (256 levels), or holding a "__proto__" key, which msgpack would
// rename. Every refusal is a coded 400 (or error frame), never a 500 and never an accepted run
// whose history then cannot be read.

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess();
});

afterAll(async () => {
  await server?.cleanup();
});

const API = () => `${server.url}/api/v1/namespaces/default/workflows`;
const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/** `{"a":{"a":…{"a":1}…}}`, `levels` objects deep, as JSON text (JSON.stringify of it would overflow). */
function deepJson(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

/** The same as a value, built without recursion. */
function deepValue(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

async function post(url: string, body: string): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, body: (await response.json()) as { code?: string; message?: string } };
}

async function startApproval(): Promise<string> {
  const workflowId = unique('shape');
  const started = await post(API(), JSON.stringify({ type: 'approval', workflowId, input: { request: 'r', timeoutMs: 60_000 } }));
  expect(started.status).toBe(201);
  return workflowId;
}

describe('deeply nested payloads over HTTP', () => {
  for (const levels of [1_000, 100_000]) {
    it(`refuses a start whose input is ${levels.toLocaleString('en')} levels deep with 400 PAYLOAD_TOO_DEEP`, async () => {
      const workflowId = unique('deep');
      const answer = await post(API(), `{"type":"approval","workflowId":"${workflowId}","input":${deepJson(levels)}}`);
      expect(answer).toMatchObject({ status: 400, body: { code: 'PAYLOAD_TOO_DEEP' } });
      expect(answer.body.message).toContain('256 levels');
      expect((await fetch(`${API()}/${workflowId}`)).status).toBe(404);
    });

    it(`refuses a signal and an update ${levels.toLocaleString('en')} levels deep with 400 PAYLOAD_TOO_DEEP`, async () => {
      const workflowId = await startApproval();
      for (const op of ['signal', 'update']) {
        const answer = await post(`${API()}/${workflowId}/${op}`, `{"event":{"type":"APPROVE","by":${deepJson(levels)}}}`);
        expect(answer, op).toMatchObject({ status: 400, body: { code: 'PAYLOAD_TOO_DEEP' } });
      }
      // Nothing was recorded, and the run's history still reads back.
      const history = await fetch(`${API()}/${workflowId}/history`);
      expect(history.status).toBe(200);
      expect(((await history.json()) as { events: Array<{ kind: string }> }).events.map((e) => e.kind)).not.toContain('SignalReceived');
    });
  }

  it('accepts an input just within the limit, and reads its history back', async () => {
    const workflowId = unique('within');
    const answer = await post(API(), JSON.stringify({ type: 'approval', workflowId, input: { request: 'r', timeoutMs: 60_000, extra: deepValue(200) } }));
    expect(answer.status).toBe(201);
    expect((await fetch(`${API()}/${workflowId}/history`)).status).toBe(200);
  });

  it('refuses a "__proto__" key in an input with a coded 400', async () => {
    const answer = await post(API(), `{"type":"approval","workflowId":"${unique('proto')}","input":{"__proto__":{"admin":true}}}`);
    expect(answer.status).toBe(400);
    expect(answer.body.code).toEqual(expect.any(String));
  });
});

describe('deeply nested payloads over the WebSocket', () => {
  it('answers a start 300 levels deep with PAYLOAD_TOO_DEEP, and the connection stays usable', async () => {
    const client = await WireClient.connect(server.wsUrl);
    try {
      const refused = await client.start('approval', { workflowId: unique('ws-deep'), input: deepValue(300) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WireError);
      expect((refused as WireError).code).toBe('PAYLOAD_TOO_DEEP');
      const started = await client.start('approval', { workflowId: unique('ws-after'), input: { request: 'r', timeoutMs: 60_000 } });
      expect(started.runId).toEqual(expect.any(String));
    } finally {
      client.close();
    }
  });

  it('refuses a frame 1,000 levels deep with PROTOCOL_ERROR naming the limit', async () => {
    const socket = await WireSocket.open(server.wsUrl);
    await socket.hello();
    socket.send({ t: 'call', id: 1, op: 'start', args: { type: 'approval', input: deepValue(1_000) } });
    const error = await socket.next((f) => f.t === 'error');
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toMatch(/nested more than 512 levels/);
  });

  it('refuses a "__proto__" key with a coded error instead of storing it renamed', async () => {
    const socket = await WireSocket.open(server.wsUrl);
    await socket.hello();
    socket.send({ t: 'call', id: 1, op: 'start', args: { type: 'approval', workflowId: unique('ws-proto'), input: JSON.parse('{"request":"r","__proto__":{"x":1}}') } });
    const error = await socket.next((f) => f.t === 'error');
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toContain('"__proto__"');
  });

  it('fails an activity whose result is nested too deep for good, with the reason, instead of storing it', async () => {
    const worker = await startRawWorker({
      wsUrl: server.wsUrl, taskQueue: 'bench', activityTypes: ['step1', 'step2', 'step3'],
      run: async () => ({ output: deepValue(300) }),
    });
    const client = await WireClient.connect(server.wsUrl);
    try {
      const { workflowId } = await client.start('threeStep', { workflowId: unique('deep-result'), input: { n: 1 } });
      const result = await client.result(workflowId);
      expect(result.status).toBe('failed');
      const failed = (await client.history(workflowId)).find((e) => e.kind === 'ActivityFailed');
      expect(JSON.stringify(failed)).toContain('PAYLOAD_TOO_DEEP');
    } finally {
      client.close();
      await worker.close();
    }
  });

  it('is alive after all of it', async () => {
    expect(await healthz(server.url)).toBe(200);
  });
});
