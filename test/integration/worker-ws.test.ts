import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { orderActivityImplementations } from '../../machines/order-activities.ts';
import { threeStepActivities } from '../../machines/three-step.ts';
import { decode, encode } from '../../src/common/codec.ts';
import {
  CancelledFailure, ProtocolError, Worker, WsWorkerConnection, type ActivityFunction, type ConnectionEvent, type WorkerConnection,
} from '../../src/worker/index.ts';
import { longTaskActivities, type LongTaskOutput } from '../fixtures/worker-machines.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { WireClient } from '../helpers/wire-client.ts';

let server: ServerProcess;
let client: WireClient;

beforeAll(async () => {
  server = await startServerProcess();
  client = await WireClient.connect(server.wsUrl);
});

afterAll(async () => {
  client?.close();
  await server?.cleanup();
});

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a worker over WebSocket', () => {
  it('runs order sagas to completion, shipped and compensated, from an http:// address', async () => {
    const worker = Worker.create({ address: server.url, taskQueue: 'orders', activities: orderActivityImplementations() });
    const running = worker.run();
    try {
      const orders = [
        ...Array.from({ length: 5 }, (_, i) => ({ orderId: unique(`ship-${i}`), amount: 10 + i, items: ['book'] })),
        { orderId: unique('comp-1'), amount: 7, items: ['lamp'], failAt: 'ship' as const },
        { orderId: unique('comp-2'), amount: 8, items: ['desk'], failAt: 'reserve' as const },
        { orderId: unique('decl'), amount: 9, items: [], failAt: 'charge' as const },
      ];
      await Promise.all(orders.map((input) => client.start('order', { workflowId: input.orderId, input })));
      const results = await Promise.all(orders.map((o) => client.result<{ outcome: string; chargeId: string | null; trackingId: string | null }>(o.orderId)));
      expect(results.map((r) => r.status)).toEqual(orders.map(() => 'completed'));
      expect(results.map((r) => r.output!.outcome)).toEqual(['shipped', 'shipped', 'shipped', 'shipped', 'shipped', 'compensated', 'compensated', 'declined']);
      expect(results[0]!.output).toMatchObject({ chargeId: `ch_${orders[0]!.orderId}`, trackingId: `trk_${orders[0]!.orderId}` });
      // The compensated path ran its compensations through the worker too.
      const kinds = (await client.history(orders[5]!.orderId)).filter((e) => e.kind === 'ActivityCompleted').map((e) => e.activityId);
      expect(kinds).toEqual(['charge', 'reserve', 'release', 'refund']);
    } finally {
      await worker.shutdown();
      await running;
    }
  });

  it('never holds more tasks than maxConcurrentActivities: the server pushes only into free slots', async () => {
    const connection = await WsWorkerConnection.connect({ address: server.wsUrl });
    // Counts what the server has handed this worker and not yet had back: a slot is taken by a
    // task frame and returned by the worker's report (never earlier).
    let outstanding = 0;
    let mostOutstanding = 0;
    let executing = 0;
    let mostExecuting = 0;
    const counting: WorkerConnection = {
      openSession(registration, handlers) {
        const session = connection.openSession(registration, {
          onTask(task) {
            outstanding++;
            mostOutstanding = Math.max(mostOutstanding, outstanding);
            handlers.onTask(task);
          },
          onCancel: handlers.onCancel,
        });
        return {
          complete(token, output) {
            outstanding--;
            return session.complete(token, output);
          },
          fail(token, failure) {
            outstanding--;
            return session.fail(token, failure);
          },
          heartbeat: (token, details) => session.heartbeat(token, details),
          close: () => session.close(),
        };
      },
    };
    const slow = (fn: ActivityFunction): ActivityFunction => async (input, ctx) => {
      executing++;
      mostExecuting = Math.max(mostExecuting, executing);
      await new Promise((resolve) => setTimeout(resolve, 15));
      executing--;
      return fn(input, ctx);
    };
    const activities = Object.fromEntries(Object.entries(threeStepActivities).map(([name, fn]) => [name, slow(fn)]));
    const worker = Worker.create({ connection: counting, taskQueue: 'bench', activities, maxConcurrentActivities: 2 });
    const running = worker.run();
    try {
      const ids = Array.from({ length: 12 }, (_, i) => unique(`credit-${i}`));
      await Promise.all(ids.map((workflowId, n) => client.start('threeStep', { workflowId, input: { n } })));
      const results = await Promise.all(ids.map((id) => client.result<{ n: number }>(id)));
      expect(results.map((r) => r.output!.n)).toEqual(ids.map((_, n) => n));
      expect(mostOutstanding).toBe(2); // twelve workflows waiting: both slots were used, never a third
      expect(mostExecuting).toBeLessThanOrEqual(2);
      expect(outstanding).toBe(0);
    } finally {
      await worker.shutdown();
      await running;
      await connection.close();
    }
  });

  it('aborts ctx.signal when the workflow leaves the state that invoked the activity', async () => {
    const started = deferred();
    const ended = deferred<{ outcome: string; reason: unknown }>();
    const worker = Worker.create({
      address: server.wsUrl, taskQueue: 'long',
      activities: longTaskActivities('w-signal', { onStart: () => started.resolve(), onEnd: (_info, outcome, reason) => ended.resolve({ outcome, reason }) }),
    });
    const running = worker.run();
    try {
      const workflowId = unique('stop');
      await client.start('longTask', { workflowId, input: { steps: 10_000, stepMs: 20 } });
      await started.promise;
      await client.call('signal', { workflowId, event: { type: 'STOP' } });
      const end = await ended.promise;
      expect(end.outcome).toBe('aborted');
      expect(end.reason).toBeInstanceOf(CancelledFailure);
      expect((end.reason as Error).message).toMatch(/cancelled by the server/);
      const result = await client.result<LongTaskOutput>(workflowId);
      expect(result.output).toMatchObject({ outcome: 'stopped', result: null });
    } finally {
      await worker.shutdown();
      await running;
    }
  });

  it('gives the next attempt the heartbeat details of the failed one in ctx.info.heartbeatDetails', async () => {
    const worker = Worker.create({ address: server.wsUrl, taskQueue: 'long', activities: longTaskActivities('w-resume') });
    const running = worker.run();
    try {
      const workflowId = unique('resume');
      await client.start('longTask', { workflowId, input: { steps: 6, stepMs: 20, failOnAttempt: 1 } });
      const result = await client.result<LongTaskOutput>(workflowId);
      expect(result.output!.outcome).toBe('done');
      expect(result.output!.result).toMatchObject({ attempt: 2, steps: 6, worker: 'w-resume' });
      // Attempt 1 heartbeated { done: 1..3 } and failed: attempt 2 starts from what it last heard.
      expect(result.output!.result!.resumedFrom).toBeGreaterThan(0);
      expect(result.output!.result!.resumedFrom).toBeLessThanOrEqual(3);
    } finally {
      await worker.shutdown();
      await running;
    }
  });

  it('fails an attempt for good when its result cannot be sent (too large, not encodable, too deep for the server)', async () => {
    const results: Record<string, unknown> = { big: 'x'.repeat(5 * 1024 * 1024), bigint: { n: 10n ** 20n }, deep: nested(600) };
    const why: Record<string, RegExp> = { big: /over the 4194304-byte frame limit/, bigint: /cannot be encoded/, deep: /nested more than 512 levels deep/ };
    const events: ConnectionEvent[] = [];
    const worker = Worker.create({
      address: server.wsUrl, taskQueue: 'flaky',
      activities: { flakyCall: async ({ key }: { key: string }) => results[key] },
      connectionOptions: { onEvent: (e) => events.push(e) },
    });
    const running = worker.run();
    try {
      for (const key of Object.keys(results)) {
        const workflowId = unique(`unsendable-${key}`);
        await client.start('flaky', { workflowId, input: { key, failTimes: 0 } });
        const result = await client.result<{ error: { cause?: { type?: string; message: string } } }>(workflowId);
        expect(result.output!.error.cause).toMatchObject({ type: 'UnsendableResult' });
        expect(result.output!.error.cause!.message).toMatch(why[key]!);
        const attempts = (await client.history(workflowId)).filter((e) => e.kind === 'ActivityScheduled' || e.kind === 'ActivityAttemptFailed');
        expect(attempts).toHaveLength(1); // not retried: it would give the same result
      }
      expect(events.filter((e) => e.type === 'disconnected')).toEqual([]); // the connection never broke
    } finally {
      await worker.shutdown();
      await running;
    }
  });

  it('keeps a completion made while disconnected and reports it after reconnecting', async () => {
    const proxy = await startProxy(server.port);
    const gate = deferred();
    const started = deferred();
    const events: ConnectionEvent[] = [];
    const disconnected = deferred();
    const reconnected = deferred();
    const impl = orderActivityImplementations();
    const worker = Worker.create({
      address: `127.0.0.1:${proxy.port}`, taskQueue: 'orders',
      activities: {
        ...impl,
        chargeCard: async (input, ctx) => {
          started.resolve();
          await gate.promise;
          return impl.chargeCard!(input, ctx);
        },
      },
      connectionOptions: {
        reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'disconnected') disconnected.resolve();
          if (e.type === 'connected' && e.reconnected) reconnected.resolve();
        },
      },
    });
    const running = worker.run();
    try {
      const workflowId = unique('offline');
      await client.start('order', { workflowId, input: { orderId: workflowId, amount: 3, items: ['pen'] } });
      await started.promise;
      proxy.down();
      await disconnected.promise;
      gate.resolve(); // the activity completes while the worker cannot reach the server
      await new Promise((resolve) => setTimeout(resolve, 50));
      proxy.up();
      await reconnected.promise;
      const result = await client.result<{ outcome: string }>(workflowId);
      expect(result.output!.outcome).toBe('shipped');
      const history = await client.history(workflowId);
      const charge = history.filter((e) => e.activityId === 'charge');
      // Attempt 1's completion arrived after the reconnect: no failure, no second attempt.
      expect(charge.map((e) => e.kind)).toEqual(['ActivityScheduled', 'ActivityCompleted']);
      expect(charge[1]).toMatchObject({ attempt: 1 });
    } finally {
      await worker.shutdown();
      await running;
      await proxy.close();
    }
  });

  it('holds a task pushed after a reconnect until a slot still busy with a task of the old connection frees', async () => {
    const proxy = await startProxy(server.port);
    const disconnected = deferred();
    const reconnected = deferred();
    const connection = await WsWorkerConnection.connect({
      address: `127.0.0.1:${proxy.port}`, reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      onEvent: (e) => {
        if (e.type === 'disconnected') disconnected.resolve();
        if (e.type === 'connected' && e.reconnected) reconnected.resolve();
      },
    });
    let pushed = 0;
    const secondPushed = deferred();
    const counting: WorkerConnection = {
      openSession: (registration, handlers) => connection.openSession(registration, {
        onTask(task) {
          if (++pushed === 2) secondPushed.resolve();
          handlers.onTask(task);
        },
        onCancel: handlers.onCancel,
      }),
    };
    const gate = deferred();
    const firstStarted = deferred();
    let executing = 0;
    let mostExecuting = 0;
    const impl = orderActivityImplementations();
    const worker = Worker.create({
      connection: counting, taskQueue: 'orders', maxConcurrentActivities: 1,
      activities: {
        ...impl,
        chargeCard: async (input, ctx) => {
          mostExecuting = Math.max(mostExecuting, ++executing);
          firstStarted.resolve();
          if (input.orderId.startsWith('first')) await gate.promise;
          executing--;
          return impl.chargeCard!(input, ctx);
        },
      },
    });
    const running = worker.run();
    try {
      const first = unique('first');
      const second = unique('second');
      await client.start('order', { workflowId: first, input: { orderId: first, amount: 1, items: [] } });
      await firstStarted.promise;
      await client.start('order', { workflowId: second, input: { orderId: second, amount: 2, items: [] } });
      proxy.down();
      await disconnected.promise;
      proxy.up();
      await reconnected.promise;
      // The new connection registered its one slot: the server pushes the second order's
      // charge while the first still runs here. The worker holds it.
      await secondPushed.promise;
      expect(executing).toBe(1);
      gate.resolve();
      const results = await Promise.all([client.result<{ outcome: string }>(first), client.result<{ outcome: string }>(second)]);
      expect(results.map((r) => r.output!.outcome)).toEqual(['shipped', 'shipped']);
      expect(mostExecuting).toBe(1);
    } finally {
      gate.resolve();
      await worker.shutdown();
      await running;
      await connection.close();
      await proxy.close();
    }
  });

  it('drains on shutdown: tasks in flight report before run() resolves, and no new task is taken', async () => {
    const started: string[] = [];
    const ended: string[] = [];
    const allStarted = deferred();
    const worker = Worker.create({
      address: `127.0.0.1:${server.port}`, taskQueue: 'long', maxConcurrentActivities: 5,
      activities: longTaskActivities('drainer', {
        onStart: (info) => {
          started.push(info.workflowId);
          if (started.length === 3) allStarted.resolve();
        },
        onEnd: (info) => ended.push(info.workflowId),
      }),
    });
    let runResolved = false;
    const running = worker.run().then(() => (runResolved = true));
    const ids = Array.from({ length: 3 }, (_, i) => unique(`drain-${i}`));
    await Promise.all(ids.map((workflowId) => client.start('longTask', { workflowId, input: { steps: 8, stepMs: 60 } })));
    await allStarted.promise;

    const shutdown = worker.shutdown();
    // A workflow started while the worker drains: the server stopped pushing to it (unregister
    // is one frame; the drain takes several hundred ms more).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const late = unique('late');
    await client.start('longTask', { workflowId: late, input: { steps: 1, stepMs: 1 } });
    await shutdown;
    await running;
    expect(runResolved).toBe(true);
    expect(ended.sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const described = await client.describe(id);
      expect(described.status).toBe('completed'); // reported before the connection closed
    }
    expect(started).not.toContain(late);

    // The late workflow waits for a worker; the next one takes it.
    const second = Worker.create({ address: server.wsUrl, taskQueue: 'long', activities: longTaskActivities('second') });
    const secondRunning = second.run();
    try {
      const result = await client.result<LongTaskOutput>(late);
      expect(result.output!.result).toMatchObject({ worker: 'second', attempt: 1 });
    } finally {
      await second.shutdown();
      await secondRunning;
    }
  });
});

describe('a worker facing a broken or unwelcoming server', () => {
  it('drops a connection on junk frames (bytes, text, invalid task) without crashing, and reconnects', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    let connections = 0;
    const registered = deferred<Record<string, unknown>>();
    wss.on('connection', (socket) => {
      const n = ++connections;
      socket.on('error', () => {});
      socket.on('message', (data: Buffer) => {
        const frame = decode(data) as Record<string, unknown>;
        if (frame.t === 'hello') {
          if (n === 1) socket.send(Buffer.from([0xc1, 0xff, 0x00, 0x13]));
          else if (n === 2) socket.send('{"t":"welcome"}');
          else socket.send(encode({ t: 'welcome', v: 1, sessionId: `s${n}`, serverVersion: 'fake' }));
          if (n === 3) socket.send(encode({ t: 'task', task: { taskToken: 'x', attempt: 'one' } }));
          if (n === 4) socket.send(encode(nested(600)));
        }
        if (frame.t === 'register') {
          socket.send(encode({ t: 'ok', id: frame.id, value: {} }));
          if (n >= 5) registered.resolve(frame);
        }
      });
    });
    const events: ConnectionEvent[] = [];
    const worker = Worker.create({
      address: `ws://127.0.0.1:${port}/ws`, taskQueue: 'q', activities: { a: async () => 1 }, maxConcurrentActivities: 3,
      connectionOptions: { reconnect: { initialDelayMs: 10, maxDelayMs: 20 }, onEvent: (e) => events.push(e) },
    });
    const running = worker.run();
    try {
      const frame = await registered.promise;
      expect(frame).toMatchObject({ t: 'register', taskQueue: 'q', activityTypes: ['a'], slots: 3 });
      const reasons = events.filter((e) => e.type === 'disconnected').map((e) => (e as { reason: string }).reason);
      expect(reasons.length).toBeGreaterThanOrEqual(4);
      expect(reasons.slice(0, 4).every((r) => /invalid frame/.test(r))).toBe(true);
    } finally {
      await worker.shutdown();
      await running;
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('rejects run() with the server\'s PROTOCOL_VERSION error, and does not retry', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    let hellos = 0;
    wss.on('connection', (socket) => {
      socket.on('message', () => {
        hellos++;
        socket.send(encode({ t: 'error', code: 'PROTOCOL_VERSION', message: 'PROTOCOL_VERSION: protocol version 1 is not supported; this server speaks 2.', supported: [2], fatal: true }));
        socket.close(1002);
      });
    });
    const worker = Worker.create({ address: `127.0.0.1:${(wss.address() as { port: number }).port}`, taskQueue: 'q', activities: {} });
    try {
      const error = await worker.run().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'PROTOCOL_VERSION', supported: [2] });
      expect((error as Error).message).toMatch(/this server speaks 2/);
      expect(hellos).toBe(1);
    } finally {
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('rejects run() with CONNECTION_LOST when nothing listens at the address', async () => {
    const port = await freePort();
    const worker = Worker.create({
      address: `127.0.0.1:${port}`, taskQueue: 'q', activities: {},
      connectionOptions: { connectTimeoutMs: 300, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } },
    });
    await expect(worker.run()).rejects.toMatchObject({ code: 'CONNECTION_LOST', message: expect.stringMatching(/could not connect to ws:\/\/127\.0\.0\.1:\d+\/ws/) });
  });

  it('checks its options', () => {
    expect(() => Worker.create({ taskQueue: 'q', activities: {} })).toThrow(/either address .* or connection/);
    expect(() => Worker.create({ address: 'ftp://x', taskQueue: 'q', activities: {} })).toThrow(/not a host:port/);
    expect(() => Worker.create({ address: 'h:1', taskQueue: 'q', activities: {}, maxConcurrentActivities: 0 })).toThrow(/maxConcurrentActivities/);
    expect(Worker.create({ address: 'h:1', taskQueue: 'q', activities: {} })).toBeInstanceOf(Worker);
  });
});

function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A TCP proxy to the server that the test can cut (every connection dropped, new ones refused) and restore. */
async function startProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let isDown = false;
  const proxy = createTcpServer((inbound) => {
    if (isDown) {
      inbound.destroy();
      return;
    }
    const outbound = connect(targetPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as { port: number }).port,
    down() {
      isDown = true;
      for (const s of sockets) s.destroy();
    },
    up() {
      isDown = false;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      proxy.close(() => resolve());
    }),
  };
}
