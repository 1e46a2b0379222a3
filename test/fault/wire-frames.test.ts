import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthorizedError, Worker } from '../../src/worker/index.ts';
import { flakyActivities } from '../../machines/flaky.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { healthz, UpgradeRefused, WireClient, WireSocket, type WireFrame } from '../helpers/wire-client.ts';
import { createNamespace } from '../helpers/namespaces.ts';

// Bad input against a running server (a child process): each case is answered with its error
// code, and afterwards the server is alive and serves a fresh client.

const TOKENS = [
  { token: 'worker-token-default', namespace: 'default', role: 'worker' },
  { token: 'client-token-default', namespace: 'default', role: 'client' },
  { token: 'worker-token-other-ns', namespace: 'other', role: 'worker' },
] as const;

let open: ServerProcess;
let secured: ServerProcess;

beforeAll(async () => {
  [open, secured] = await Promise.all([startServerProcess(), startServerProcess({ tokens: TOKENS })]);
  await createNamespace(open.url, 'other');
});

afterAll(async () => {
  await Promise.all([open?.cleanup(), secured?.cleanup()]);
});

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/** The server answers /healthz and a fresh client can start a workflow. */
async function expectAlive(server: ServerProcess, token?: string): Promise<void> {
  expect(await healthz(server.url)).toBe(200);
  const client = await WireClient.connect(server.wsUrl, { token });
  try {
    const started = await client.start('approval', { workflowId: unique('alive'), input: { request: 'still here?', timeoutMs: 60_000 } });
    expect(started.runId).toEqual(expect.any(String));
  } finally {
    client.close();
  }
}

/** Opens a socket and says hello; returns the socket once welcomed. */
async function welcomed(server: ServerProcess, options: { role?: 'worker' | 'client'; namespace?: string; token?: string } = {}): Promise<WireSocket> {
  const socket = await WireSocket.open(server.wsUrl, { token: options.token });
  const answer = await socket.hello(options);
  expect(answer.t).toBe('welcome');
  return socket;
}

/** The fatal error frame the server sent before closing, and the close code. */
async function refusal(socket: WireSocket): Promise<{ error: WireFrame; close: number }> {
  const error = await socket.next((f) => f.t === 'error');
  const { code } = await socket.closed;
  return { error, close: code };
}

/** Deterministic pseudo-random bytes (the same junk on every run). */
function junk(length: number, seed = 42): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

async function protocolErrorCount(server: ServerProcess, code: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`perdure_protocol_errors_total{code="${code}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('malformed frames', () => {
  it('closes the connection with 1009 on a 20 MiB frame (FRAME_TOO_LARGE), before buffering it', async () => {
    const before = await protocolErrorCount(open, 'FRAME_TOO_LARGE');
    const socket = await welcomed(open);
    socket.sendRaw(Buffer.alloc(20 * 1024 * 1024, 0x61));
    expect((await socket.closed).code).toBe(1009);
    expect(await protocolErrorCount(open, 'FRAME_TOO_LARGE')).toBe(before + 1);
    await expectAlive(open);
  });

  it('answers random bytes with PROTOCOL_ERROR and closes with 1002', async () => {
    const socket = await welcomed(open);
    socket.sendRaw(junk(4096));
    const { error, close } = await refusal(socket);
    expect(error).toMatchObject({ t: 'error', code: 'PROTOCOL_ERROR', fatal: true });
    expect(error.message).toMatch(/^PROTOCOL_ERROR: (undecodable frame|a frame must be a msgpack map)/);
    expect(close).toBe(1002);
    await expectAlive(open);
  });

  it('answers a 5,000-deep nested msgpack array with PROTOCOL_ERROR naming the depth limit', async () => {
    const socket = await welcomed(open, { role: 'worker' });
    socket.sendRaw(Buffer.concat([Buffer.alloc(5_000, 0x91), Buffer.from([0xc0])])); // [[[…[nil]…]]]
    const { error, close } = await refusal(socket);
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toMatch(/nested more than 512 levels deep/);
    expect(close).toBe(1002);
    await expectAlive(open);
  });

  it('refuses a text frame: the protocol is one msgpack map per binary frame', async () => {
    const socket = await WireSocket.open(open.wsUrl);
    socket.sendRaw(JSON.stringify({ t: 'hello', v: 1, role: 'client' }), false);
    const { error, close } = await refusal(socket);
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toMatch(/text frames are not part of the protocol/);
    expect(close).toBe(1002);
    await expectAlive(open);
  });

  it('refuses an unknown frame type from a worker and from a client', async () => {
    const worker = await welcomed(open, { role: 'worker' });
    worker.send({ t: 'steal', id: 1, taskQueue: 'orders' });
    const fromWorker = await refusal(worker);
    expect(fromWorker.error.code).toBe('PROTOCOL_ERROR');
    expect(fromWorker.error.message).toMatch(/not a worker frame/);
    expect(fromWorker.close).toBe(1002);

    const client = await welcomed(open, { role: 'client' });
    client.send({ t: 'register', id: 1, taskQueue: 'orders', activityTypes: ['chargeCard'], slots: 1 });
    const fromClient = await refusal(client);
    expect(fromClient.error.code).toBe('PROTOCOL_ERROR');
    expect(fromClient.error.message).toMatch(/clients send call frames/);
    await expectAlive(open);
  });

  it('answers a known frame with bad fields with INVALID_ARGUMENT naming the field, and keeps the connection', async () => {
    const worker = await welcomed(open, { role: 'worker' });
    const answer = await worker.request({ t: 'register', taskQueue: 'orders', activityTypes: ['chargeCard'], slots: 0 });
    expect(answer).toMatchObject({ t: 'error', code: 'INVALID_ARGUMENT' });
    expect(answer.message).toMatch(/slots/);
    const reserved = await worker.request({ t: 'register', taskQueue: '__local__', activityTypes: ['*'], slots: 1 });
    expect(reserved).toMatchObject({ t: 'error', code: 'INVALID_ARGUMENT' });
    expect(reserved.message).toMatch(/reserved/);
    expect(await worker.request({ t: 'register', taskQueue: unique('q'), activityTypes: ['a'], slots: 1 })).toMatchObject({ t: 'ok' });
    worker.close();
    await expectAlive(open);
  });

  it('refuses any frame before hello', async () => {
    const socket = await WireSocket.open(open.wsUrl);
    socket.send({ t: 'call', id: 1, op: 'describe', args: { workflowId: 'x' } });
    const { error, close } = await refusal(socket);
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toMatch(/the first frame must be a valid hello/);
    expect(close).toBe(1002);
    await expectAlive(open);
  });

  it('answers a wrong protocol version with PROTOCOL_VERSION and the versions supported', async () => {
    const socket = await WireSocket.open(open.wsUrl);
    const answer = await socket.hello({ v: 99 });
    expect(answer).toMatchObject({ t: 'error', code: 'PROTOCOL_VERSION', supported: [1], fatal: true });
    expect(answer.message).toMatch(/protocol version 99 is not supported; this server speaks 1/);
    expect((await socket.closed).code).toBe(1002);
    await expectAlive(open);
  });
});

describe('tokens', () => {
  it('refuses the upgrade with HTTP 401 when the token is missing or wrong, before any frame', async () => {
    for (const token of [undefined, 'not-a-token-at-all']) {
      const refused = await WireSocket.open(secured.wsUrl, { token }).then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(UpgradeRefused);
      expect((refused as UpgradeRefused).status).toBe(401);
      expect(JSON.parse((refused as UpgradeRefused).body)).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    await expectAlive(secured, 'client-token-default');
  });

  it('answers a token for another namespace, or another role, with FORBIDDEN and closes with 1008', async () => {
    const otherNamespace = await WireSocket.open(secured.wsUrl, { token: 'worker-token-other-ns' });
    const answer = await otherNamespace.hello({ role: 'worker', namespace: 'default' });
    expect(answer).toMatchObject({ t: 'error', code: 'FORBIDDEN' });
    expect(answer.message).toMatch(/this token is for namespace "other", not "default"/);
    expect((await otherNamespace.closed).code).toBe(1008);

    const otherRole = await WireSocket.open(secured.wsUrl, { token: 'worker-token-default' });
    expect(await otherRole.hello({ role: 'client' })).toMatchObject({ t: 'error', code: 'FORBIDDEN' });
    await expectAlive(secured, 'client-token-default');
  });

  it('the worker SDK rejects run() with UNAUTHORIZED or FORBIDDEN, and runs with the right token', async () => {
    const wrong = Worker.create({ address: secured.wsUrl, token: 'not-a-token-at-all', taskQueue: 'flaky', activities: flakyActivities });
    const unauthorized = await wrong.run().then(() => undefined, (e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(UnauthorizedError);
    expect(unauthorized).toMatchObject({ code: 'UNAUTHORIZED' });

    const foreign = Worker.create({ address: secured.wsUrl, token: 'worker-token-other-ns', taskQueue: 'flaky', activities: flakyActivities });
    const forbidden = await foreign.run().then(() => undefined, (e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect((forbidden as Error).message).toMatch(/namespace "other", not "default"/);

    const worker = Worker.create({ address: secured.wsUrl, token: 'worker-token-default', taskQueue: 'flaky', activities: flakyActivities });
    const running = worker.run();
    const client = await WireClient.connect(secured.wsUrl, { token: 'client-token-default' });
    try {
      const workflowId = unique('authed');
      await client.start('flaky', { workflowId, input: { key: 'k', failTimes: 0 } });
      expect((await client.result<{ answer: string }>(workflowId)).output).toMatchObject({ answer: 'answer-for-k' });
    } finally {
      client.close();
      await worker.shutdown();
      await running;
    }
    await expectAlive(secured, 'client-token-default');
  });
});

describe('task tokens', () => {
  it('refuses a stale task token, a duplicate completion, a foreign namespace and a malformed token', async () => {
    const client = await WireClient.connect(open.wsUrl);
    const worker = await welcomed(open, { role: 'worker' });
    const stranger = await welcomed(open, { role: 'worker', namespace: 'other' });
    try {
      // No other worker serves 'flaky' on this server: every task comes to this socket.
      expect(await worker.request({ t: 'register', taskQueue: 'flaky', activityTypes: ['flakyCall'], slots: 1 })).toMatchObject({ t: 'ok' });
      expect(await stranger.request({ t: 'register', taskQueue: 'flaky', activityTypes: ['flakyCall'], slots: 1 })).toMatchObject({ t: 'ok' });
      const workflowId = unique('tokens');
      await client.start('flaky', { workflowId, input: { key: 'z', failTimes: 1 } });

      const first = (await worker.next((f) => f.t === 'task')).task as { taskToken: string; attempt: number; workflowId: string };
      expect(first).toMatchObject({ attempt: 1, workflowId });
      expect(await worker.request({ t: 'fail', taskToken: first.taskToken, failure: { code: 'APPLICATION_FAILURE', message: 'try again' } })).toMatchObject({ t: 'ok' });
      const second = (await worker.next((f) => f.t === 'task')).task as { taskToken: string; attempt: number };
      expect(second.attempt).toBe(2);

      const stale = await worker.request({ t: 'complete', taskToken: first.taskToken, output: { answer: 'late', attempts: 1 } });
      expect(stale).toMatchObject({ t: 'error', code: 'TASK_TOKEN_STALE' });
      expect(stale.message).toContain(first.taskToken);
      expect(await worker.request({ t: 'heartbeat', taskToken: first.taskToken, details: { n: 1 } })).toMatchObject({ code: 'TASK_TOKEN_STALE' });

      const foreign = await stranger.request({ t: 'complete', taskToken: second.taskToken, output: { answer: 'not yours', attempts: 2 } });
      expect(foreign).toMatchObject({ t: 'error', code: 'FORBIDDEN' });
      expect(foreign.message).toMatch(/names namespace "default", but this worker is registered in "other"/);

      const malformed = await worker.request({ t: 'complete', taskToken: 'bm90LWEtdG9rZW4', output: null });
      expect(malformed).toMatchObject({ t: 'error', code: 'INVALID_ARGUMENT' });
      expect(malformed.message).toMatch(/malformed task token/);

      expect(await worker.request({ t: 'complete', taskToken: second.taskToken, output: { answer: 'answer-for-z', attempts: 2 } })).toMatchObject({ t: 'ok' });
      const duplicate = await worker.request({ t: 'complete', taskToken: second.taskToken, output: { answer: 'again', attempts: 2 } });
      expect(duplicate).toMatchObject({ t: 'error', code: 'TASK_TOKEN_STALE' });

      const result = await client.result<{ answer: string; attempts: number }>(workflowId);
      expect(result.output).toMatchObject({ answer: 'answer-for-z', attempts: 2 });
      const completions = (await client.history(workflowId)).filter((e) => e.kind === 'ActivityCompleted');
      expect(completions).toHaveLength(1);
    } finally {
      client.close();
      worker.close();
      stranger.close();
    }
    await expectAlive(open);
  });
});
