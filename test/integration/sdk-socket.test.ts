import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Client, ConnectionLostError } from '../../src/client/index.ts';
import { InvalidArgumentError, Worker } from '../../src/worker/index.ts';
import { decode, encode } from '../../src/common/codec.ts';
import { PerdureError, ProtocolError, TimeoutError } from '../../src/common/errors.ts';
import { SdkSocket, type SdkSocketOptions } from '../../src/sdk-socket/sdk-socket.ts';

// The shared socket against a scripted server on a real loopback WebSocket: each test says what
// the server does with every frame of each connection (numbered from 1).

type Script = (frame: Record<string, unknown>, socket: WebSocket, connection: number) => void;

interface FakeServer {
  url: string;
  connections: () => number;
  close(): Promise<void>;
}

const servers: FakeServer[] = [];
const sockets: SdkSocket[] = [];

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Welcomes every hello (unless `hello` says otherwise); hands every other frame to `script`. */
async function fakeServer(script: Script, options: { hello?: (socket: WebSocket, connection: number) => boolean } = {}): Promise<FakeServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  let connections = 0;
  wss.on('connection', (socket) => {
    const n = ++connections;
    socket.on('error', () => {});
    socket.on('message', (data: Buffer) => {
      const frame = decode(data) as Record<string, unknown>;
      if (frame.t === 'hello') {
        if (options.hello?.(socket, n) === false) return;
        socket.send(encode({ t: 'welcome', v: 1, sessionId: `s${n}`, serverVersion: 'fake' }));
      } else script(frame, socket, n);
    });
  });
  const server: FakeServer = {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/ws`,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    }),
  };
  servers.push(server);
  return server;
}

async function open(url: string, options: Partial<SdkSocketOptions> = {}): Promise<SdkSocket> {
  const socket = await SdkSocket.open({
    url, role: 'client', namespace: 'default', firstConnectWithinMs: 0, firstConnectOption: 'waitForServerMs',
    pingIntervalMs: 15_000, maxPayload: 64 * 1024, stopOnRefusal: false, reconnect: { initialDelayMs: 10, maxDelayMs: 40 },
    ...options,
  });
  sockets.push(socket);
  return socket;
}

const call = (socket: SdkSocket, args: Record<string, unknown> = {}, timeoutMs?: number) =>
  socket.request((id) => encode({ t: 'call', id, op: 'types', args }), { timeoutMs });

const rejection = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as PerdureError);

function welcomes(socket: SdkSocket, count: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (socket.generation >= count && socket.connected) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });
}

describe('the SDK socket', () => {
  it('matches answers to their requests by id, in whatever order the server sends them', async () => {
    const held: Record<string, unknown>[] = [];
    const server = await fakeServer((frame, socket) => {
      held.push(frame);
      if (held.length < 3) return;
      for (const f of held.reverse()) socket.send(encode({ t: 'ok', id: f.id, value: (f.args as { n: number }).n }));
    });
    const socket = await open(server.url);
    const answers = await Promise.all([1, 2, 3].map((n) => call(socket, { n })));
    expect(answers.map((a) => a.t === 'ok' && a.value)).toEqual([1, 2, 3]);
  });

  it('refuses a malformed server frame with PROTOCOL_ERROR, rejects the requests waiting as retryable, and reconnects', async () => {
    const server = await fakeServer((frame, socket, n) => {
      if (n === 1) socket.send(encode({ t: 'ok', id: 'not a number' }));
      else socket.send(encode({ t: 'ok', id: frame.id, value: 'fine' }));
    });
    const disconnects: PerdureError[] = [];
    const socket = await open(server.url, { onDisconnect: ({ error }) => disconnects.push(error) });
    const lost = await rejection(call(socket));
    expect(lost).toBeInstanceOf(ConnectionLostError);
    expect(lost).toMatchObject({ code: 'CONNECTION_LOST', retryable: true, sent: true });
    expect(lost.cause).toBeInstanceOf(ProtocolError);
    expect(lost.cause).toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(/invalid frame: not a server frame: id: /) });
    expect(disconnects[0]).toMatchObject({ code: 'PROTOCOL_ERROR' });
    await welcomes(socket, 2);
    expect(await call(socket)).toMatchObject({ t: 'ok', value: 'fine' });
  });

  it('refuses bytes that are not msgpack, and a text frame, the same way', async () => {
    const server = await fakeServer((frame, socket, n) => {
      if (n === 1) socket.send(Buffer.from([0xc1, 0xff, 0x00]));
      else if (n === 2) socket.send(JSON.stringify({ t: 'ok', id: frame.id }));
      else socket.send(encode({ t: 'ok', id: frame.id }));
    });
    const socket = await open(server.url);
    expect((await rejection(call(socket))).cause).toMatchObject({ code: 'PROTOCOL_ERROR' });
    await welcomes(socket, 2);
    expect((await rejection(call(socket))).cause).toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringContaining('text frame') });
    await welcomes(socket, 3);
    expect(await call(socket)).toMatchObject({ t: 'ok' });
  });

  it('drops a connection whose server sends a frame over maxPayload (FRAME_TOO_LARGE), without buffering it, and reconnects', async () => {
    const server = await fakeServer((frame, socket, n) => {
      socket.send(encode({ t: 'ok', id: frame.id, value: n === 1 ? 'x'.repeat(8 * 1024) : 'small' }));
    });
    const socket = await open(server.url, { maxPayload: 4 * 1024 });
    const lost = await rejection(call(socket));
    expect(lost).toMatchObject({ code: 'CONNECTION_LOST', sent: true });
    expect(lost.cause).toMatchObject({ code: 'FRAME_TOO_LARGE', message: expect.stringContaining('4096 bytes') });
    await welcomes(socket, 2);
    expect(await call(socket)).toMatchObject({ t: 'ok', value: 'small' });
  });

  it('reconnects with exponential backoff and jitter, each delay between half and all of its step, reset by a welcome', async () => {
    // Connection 1 is welcomed and then cut; 2 to 5 are cut at hello (failed attempts); 6 is welcomed.
    const server = await fakeServer((frame, socket, n) => {
      if (n === 1) socket.terminate();
      else socket.send(encode({ t: 'ok', id: frame.id }));
    }, { hello: (socket, n) => (n >= 2 && n <= 5 ? (socket.terminate(), false) : true) });
    const retries: number[] = [];
    const socket = await open(server.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 80 }, onDisconnect: ({ retryInMs }) => retries.push(retryInMs) });
    await rejection(call(socket));
    await welcomes(socket, 2);
    expect(server.connections()).toBe(6);
    const steps = [20, 40, 80, 80, 80];
    expect(retries).toHaveLength(steps.length);
    retries.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(steps[i]! / 2);
      expect(delay).toBeLessThanOrEqual(steps[i]!);
    });
    expect(await call(socket)).toMatchObject({ t: 'ok' });
  });

  it('rejects a request sent while the connection is down at once (sent: false), and one in flight when it drops (sent: true)', async () => {
    let cut: (() => void) | undefined;
    const server = await fakeServer((_frame, socket) => (cut = () => socket.terminate()));
    const socket = await open(server.url, { reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 } });
    const inFlight = rejection(call(socket));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => cut && (clearInterval(poll), resolve()), 5);
    });
    cut!();
    expect(await inFlight).toMatchObject({ code: 'CONNECTION_LOST', retryable: true, sent: true });
    expect(socket.connected).toBe(false);
    const notSent = await rejection(call(socket));
    expect(notSent).toBeInstanceOf(ConnectionLostError);
    expect(notSent).toMatchObject({ code: 'CONNECTION_LOST', sent: false });
    const waited = await rejection(socket.whenOpen(50));
    expect(waited).toMatchObject({ code: 'CONNECTION_LOST', message: expect.stringMatching(/not connected to .* after waiting 50 ms/) });
  });

  it('rejects a request the server never answers with TIMEOUT after its timeoutMs, and ignores the late answer', async () => {
    let late: (() => void) | undefined;
    const server = await fakeServer((frame, socket) => {
      late = () => socket.send(encode({ t: 'ok', id: frame.id, value: 'late' }));
    });
    const socket = await open(server.url);
    const error = await rejection(call(socket, {}, 50));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('within 50 ms') });
    late!();
    // The answer to a request nobody waits for any more is dropped; the connection stays.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(socket.connected).toBe(true);
    expect(socket.generation).toBe(1);
  });

  it('rejects requests waiting, and waits for the connection, with CONNECTION_LOST once closed', async () => {
    const server = await fakeServer(() => {});
    const socket = await open(server.url);
    const waiting = rejection(call(socket));
    await socket.close();
    expect(await waiting).toMatchObject({ code: 'CONNECTION_LOST', sent: true, message: expect.stringContaining('client was closed') });
    expect(await rejection(socket.whenOpen(1_000))).toMatchObject({ code: 'CONNECTION_LOST', sent: false });
  });

  it('ends for good on a refused hello (PROTOCOL_VERSION with the versions supported), trying once', async () => {
    let hellos = 0;
    const server = await fakeServer(() => {}, {
      hello: (socket) => {
        hellos++;
        socket.send(encode({ t: 'error', code: 'PROTOCOL_VERSION', message: 'PROTOCOL_VERSION: this server speaks 2.', supported: [2], fatal: true }));
        return false;
      },
    });
    const error = await rejection(open(server.url, { firstConnectWithinMs: 5_000 }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'PROTOCOL_VERSION', supported: [2] });
    expect(hellos).toBe(1);
  });

  it('says how long it tried, and which option set that, when no server came', async () => {
    const server = await fakeServer(() => {});
    const url = server.url;
    await server.close();
    const error = await rejection(open(url, { firstConnectWithinMs: 100, firstConnectOption: 'connectTimeoutMs' }));
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error.message).toMatch(/could not connect to ws:\/\/127\.0\.0\.1:\d+\/ws: tried for 100 ms \(connectTimeoutMs\); last attempt: .*ECONNREFUSED/);
  });
});

describe('the client on the SDK socket', () => {
  it('fails a call answered with a malformed frame with a retryable CONNECTION_LOST naming PROTOCOL_ERROR, and the next call goes through', async () => {
    const server = await fakeServer((frame, socket, n) => {
      if (n === 1) socket.send(encode({ t: 'nonsense', id: frame.id }));
      else socket.send(encode({ t: 'ok', id: frame.id, value: { types: [{ type: 'approval' }] } }));
    });
    const client = await Client.connect({ address: server.url, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    try {
      const error = await rejection(client.workflowTypes());
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect(error).toMatchObject({ retryable: true, sent: true, cause: expect.objectContaining({ code: 'PROTOCOL_ERROR' }) });
      await expect(client.workflowTypes()).resolves.toEqual([{ type: 'approval' }]);
    } finally {
      await client.close();
    }
  });
});

describe('the worker on the SDK socket', () => {
  it('stops for good, rejecting run() with the server\'s error, when its registration is refused', async () => {
    const server = await fakeServer((frame, socket) => {
      if (frame.t === 'register') socket.send(encode({ t: 'error', id: frame.id, code: 'INVALID_ARGUMENT', message: 'INVALID_ARGUMENT: task queue "__local__" is reserved' }));
    });
    const worker = Worker.create({
      address: server.url, taskQueue: 'q', activities: { a: async () => 1 }, quiet: true,
      connectionOptions: { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } },
    });
    const error = await rejection(worker.run());
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/reserved/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.connections()).toBe(1);
  });
});
