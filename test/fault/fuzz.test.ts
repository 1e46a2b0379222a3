import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../src/common/codec.ts';
import { CLIENT_OPS } from '../../src/common/wire.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { healthz, WireClient, WireSocket, type WireFrame } from '../helpers/wire-client.ts';

// A seeded fuzz of the server's two front doors (issue 11): 100,000 random and mutated frames
// over WebSocket, and a few thousand random and mutated JSON bodies over HTTP keep-alive. The
// server must never crash, must answer every bad input with a coded error (never INTERNAL / 500),
// and must leave Object.prototype as it was. The seed is printed: FUZZ_SEED=<n> replays a run.

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_0b11);
const WS_FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const HTTP_REQUESTS = 3_000;
/** Frames per batch: the structured ones first, one raw (likely fatal) frame last. */
const BATCH = 100;
/** The id of the call that ends a batch. */
const MARKER = 2_000_000_000;
const WS_CONNECTIONS = 6;
const HTTP_CONCURRENCY = 8;

/** mulberry32: a small, fast, seeded PRNG, so a failing run is reproducible from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

// Keys a polluted prototype would show through: the counter machine reads `input?.total` and
// `input?.rollAt` from an input `{}`, so a polluted Object.prototype.total changes its output.
const POISON = { total: 666, rollAt: 1, polluted: 'yes' };
const WEIRD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then', 'type', 't', 'id', ''];

function randomString(rng: Rng): string {
  switch (rng.int(6)) {
    case 0: return '';
    case 1: return rng.pick(WEIRD_KEYS);
    case 2: return 'x'.repeat(rng.int(2000));
    case 3: return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => rng.int(0xd800)));
    case 4: return `fuzz-${rng.int(1000)}`;
    default: return rng.pick(['approval', 'counter', 'order', 'threeStep', 'default', 'APPROVE', 'FINISH', 'ADD', '1s', '*/5 * * * *', 'nope']);
  }
}

/** A random JSON-compatible value (depth-bounded; `deep` makes a long chain near the limits). */
function randomValue(rng: Rng, depth = 0, proto = true): unknown {
  const roll = rng.int(depth > 4 ? 6 : 11);
  switch (roll) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, -0, 4_294_967_296]);
    case 3: return rng.int(1_000_000);
    case 4:
    case 5: return randomString(rng);
    case 6:
    case 7: return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1, proto));
    case 8: return poisoned(rng, proto);
    case 9: return nested(rng.pick([200, 255, 256, 257, 300]));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) setKey(object, randomString(rng), randomValue(rng, depth + 1, proto), proto);
      return object;
    }
  }
}

/**
 * An object holding own `__proto__` / `constructor.prototype` keys, as JSON.parse makes them.
 * Without `proto`, only the `constructor` ones: a `__proto__` key in a frame is refused as the
 * frame's decode fails (fatal, docs/limits.md), so those go in raw frames, which end a batch.
 */
function poisoned(rng: Rng, proto: boolean): unknown {
  const texts = [
    `{"__proto__":${JSON.stringify(POISON)}}`,
    `{"constructor":{"prototype":${JSON.stringify(POISON)}}}`,
    `{"a":{"__proto__":{"__proto__":${JSON.stringify(POISON)}}}}`,
    `{"type":"APPROVE","__proto__":${JSON.stringify(POISON)}}`,
    `{"constructor":{"prototype":{"toString":1}},"prototype":{"polluted":"yes"}}`,
  ];
  return JSON.parse(rng.pick(proto ? texts : texts.filter((text) => !text.includes('__proto__'))));
}

/**
 * Sets an own key, as JSON.parse would (`object.__proto__ = v` would set the prototype instead).
 * Without `proto`, a `__proto__` key becomes `__proto` (see `poisoned`).
 */
function setKey(object: Record<string, unknown>, key: string, value: unknown, proto: boolean): void {
  Object.defineProperty(object, !proto && key === '__proto__' ? '__proto' : key, { value, enumerable: true, writable: true, configurable: true });
}

function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

/** Cron expressions for schedules: valid, out of range, malformed, huge. */
const CRONS = ['*/5 * * * *', '0 0 31 2 *', '61 25 32 13 8', '* * * * * * *', '@yearly', '0 0 * * MON-FRI', 'L W # ?', '*/0 * * * *', '1-99999999 * * * *', '0 0 29 2 1', ''];

/** Plausible arguments for an op, then perhaps mutated field by field. */
function argsFor(rng: Rng, op: string, proto: boolean): Record<string, unknown> {
  const randomJson = (r: Rng) => randomValue(r, 0, proto);
  const workflowId = rng.chance(0.7) ? `fuzz-${rng.int(50)}` : randomJson(rng);
  const base: Record<string, unknown> = {
    start: { type: rng.pick(['approval', 'counter', 'nope']), workflowId, input: randomJson(rng) },
    signal: { workflowId, event: rng.chance(0.8) ? { type: rng.pick(['APPROVE', 'ADD', 'FINISH']), by: randomJson(rng) } : randomJson(rng) },
    update: { workflowId, event: { type: rng.pick(['APPROVE', 'REJECT']), by: randomJson(rng) } },
    signalWithStart: { type: 'approval', workflowId, event: { type: 'APPROVE' }, input: randomJson(rng) },
    createNamespace: { name: randomString(rng), description: randomJson(rng), retention: randomJson(rng) },
    createSchedule: {
      scheduleId: randomString(rng),
      spec: rng.chance(0.7) ? { cron: rng.pick(CRONS), timezone: rng.pick(['UTC', 'Europe/Paris', 'Mars/Base', '', '+25:00']) } : { interval: { every: rng.pick(['1s', '0ms', '1e9d', '-1h', '99999999999999d']) } },
      action: rng.chance(0.7) ? { workflowType: 'approval', input: randomJson(rng) } : randomJson(rng),
    },
  }[op] as Record<string, unknown> | undefined ?? { workflowId };
  const args: Record<string, unknown> = { ...base };
  for (let i = rng.int(3); i > 0; i--) setKey(args, rng.chance(0.5) ? randomString(rng) : rng.pick(Object.keys(args).concat('x')), randomJson(rng), proto);
  // A result call waits for the run to close (20 s by default): ask for an answer at once.
  if (op === 'result') args.timeoutMs = 0;
  return args;
}

/** A frame that decodes to a map: a call (mostly), or a worker or hello frame in the wrong place. */
function structuredFrame(rng: Rng, id: number, proto = false): Record<string, unknown> {
  const op = rng.chance(0.95) ? rng.pick(CLIENT_OPS) : randomString(rng);
  const frame: Record<string, unknown> = { t: 'call', id, op, args: argsFor(rng, op, proto) };
  if (rng.chance(0.05)) frame.args = randomValue(rng, 0, proto); // args not a map: INVALID_ARGUMENT, not fatal
  return frame;
}

/**
 * A worker frame with plausible and mutated fields: register (random or real queues), reports of
 * tasks with random task tokens, unregister. Its `t` is always a worker frame's (another `t`
 * is fatal, so those go in raw frames).
 */
function workerFrameOf(rng: Rng, id: number): Record<string, unknown> {
  const taskToken = rng.chance(0.8) ? `${rng.int(1e9).toString(36)}.${rng.int(100)}` : randomValue(rng, 0, false);
  const frames: Array<() => Record<string, unknown>> = [
    () => ({ t: 'register', taskQueue: rng.pick(['fuzz-q', 'fuzz-q2', '__local__', '', randomString(rng)]), activityTypes: rng.chance(0.8) ? ['a', 'b'] : randomValue(rng, 0, false), slots: rng.pick([1, 0, -1, 100_000, 1e9, 1.5]) }),
    () => ({ t: 'unregister', taskQueue: rng.pick(['fuzz-q', 'nope', randomString(rng)]) }),
    () => ({ t: 'complete', taskToken, output: randomValue(rng, 0, false) }),
    () => ({ t: 'fail', taskToken, failure: rng.chance(0.5) ? { code: 'X', message: randomString(rng), cause: randomValue(rng, 0, false) } : randomValue(rng, 0, false) }),
    () => ({ t: 'heartbeat', taskToken, details: randomValue(rng, 0, false) }),
  ];
  const frame = rng.pick(frames)();
  for (let i = rng.int(2); i > 0; i--) setKey(frame, rng.pick(Object.keys(frame).filter((k) => k !== 't').concat('x')), randomValue(rng, 0, false), false);
  frame.id = id;
  return frame;
}

// msgpackr with its extensions on: builds frames that hold RegExp, Error, Set, Map, typed arrays,
// BigInt and cycles-by-pointer, which the server's codec must refuse.
const looseAll = new Packr({ moreTypes: true, structuredClone: true, useRecords: false, largeBigIntToFloat: false });
const looseRecords = new Packr({ useRecords: true, structuredClone: false });

function extensionValue(rng: Rng): unknown {
  switch (rng.int(12)) {
    case 0: return /a(b|c)*$/gi;
    case 1: return new Error('boom');
    case 2: return new TypeError('typed');
    case 3: return new Date(rng.int(2 ** 40));
    case 4: return 2n ** 63n - 1n;
    case 5: return -(2n ** 70n);
    case 6: return new Float64Array([1, 2, rng.next()]);
    case 7: return new Uint16Array([rng.int(65536)]);
    case 8: return new Map<unknown, unknown>([[1, 'one'], [{ k: 1 }, 'object key'], ['__proto__', POISON]]);
    case 9: return new Set([1, 'a', POISON]);
    case 10: {
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      return cycle;
    }
    default: return { nested: nested(rng.pick([500, 511, 512, 513, 600, 5000])) };
  }
}

function mutate(rng: Rng, bytes: Buffer, other: Buffer): Buffer {
  const out = Buffer.from(bytes);
  switch (rng.int(5)) {
    case 0: // flip a few bytes
      for (let i = 1 + rng.int(4); i > 0 && out.length > 0; i--) out[rng.int(out.length)] = rng.int(256);
      return out;
    case 1: // truncate
      return out.subarray(0, rng.int(out.length));
    case 2: // splice two frames
      return Buffer.concat([out.subarray(0, rng.int(out.length + 1)), other.subarray(rng.int(other.length + 1))]);
    case 3: // trailing bytes
      return Buffer.concat([out, Buffer.from([rng.int(256), rng.int(256)])]);
    default: // pure junk
      return Buffer.from(Array.from({ length: rng.int(64) }, () => rng.int(256)));
  }
}

/** A raw frame: mutated bytes of a valid frame, or a frame built with msgpack extension types. */
function rawFrame(rng: Rng, id: number): { data: Buffer | string; binary: boolean } {
  const valid = encode(structuredFrame(rng, id, true));
  switch (rng.int(6)) {
    case 0:
    case 1:
      return { data: mutate(rng, valid, encode(structuredFrame(rng, id + 1))), binary: true };
    case 2:
      return { data: looseRecords.pack({ t: 'call', id, op: 'types', args: {}, extra: [{ a: 1 }, { a: 2 }] }), binary: true };
    case 3:
      return { data: rng.chance(0.5) ? 'not msgpack' : JSON.stringify(structuredFrame(rng, id)), binary: false };
    default: {
      const frame = structuredFrame(rng, id, true);
      const args = typeof frame.args === 'object' && frame.args !== null && !Array.isArray(frame.args) ? frame.args : {};
      frame.args = { ...args, [rng.pick(['input', 'event', 'x'])]: extensionValue(rng) };
      try {
        return { data: looseAll.pack(frame), binary: true };
      } catch {
        return { data: valid, binary: true };
      }
    }
  }
}

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess();
  console.log(`fuzz seed: ${SEED} (FUZZ_SEED=${SEED} to replay)`);
});

afterAll(async () => {
  await server?.cleanup();
});

/** Every answer frame the fuzz got, tallied: the assertions read this. */
interface Tally { sent: number; answers: number; errors: Map<string, number>; uncoded: WireFrame[]; connections: number }

async function fuzzConnection(rng: Rng, tally: Tally, quota: number, role: 'client' | 'worker'): Promise<void> {
  let sent = 0;
  let socket: WireSocket | undefined;
  let seen = 0;
  const count = (frames: WireFrame[]) => {
    for (const frame of frames) {
      if (frame.t === 'welcome' || frame.id === MARKER) continue;
      tally.answers++;
      if (frame.t !== 'error') continue;
      if (typeof frame.code !== 'string' || frame.code === '' || frame.code === 'INTERNAL' || typeof frame.message !== 'string') tally.uncoded.push(frame);
      tally.errors.set(String(frame.code), (tally.errors.get(String(frame.code)) ?? 0) + 1);
    }
  };
  while (sent < quota) {
    if (!socket) {
      socket = await WireSocket.open(server.wsUrl);
      tally.connections++;
      seen = 0;
      expect((await socket.hello({ role })).t).toBe('welcome');
      if (role === 'worker') await socket.request({ t: 'register', taskQueue: 'fuzz-q', activityTypes: ['a'], slots: 1 });
    }
    const batch = Math.min(BATCH, quota - sent);
    // The structured frames, pipelined; each is answered (ok or error) on a connection that stays open.
    const answered = Array.from({ length: batch - 1 }, () => socket!.request(role === 'client' ? structuredFrame(rng, 0) : workerFrameOf(rng, 0)).catch(() => undefined));
    // A call that waits (an update the machine does not take yet) is not waited for past a
    // second: its answer is counted with a later batch's.
    await Promise.race([Promise.all(answered), socket.closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    // Then one raw frame (mutated bytes, an extension type): mostly fatal. A last call tells
    // whether the connection survived it.
    const raw = rawFrame(rng, 0);
    socket.sendRaw(raw.data, raw.binary);
    sent += batch;
    socket.send({ t: 'call', id: MARKER, op: 'types', args: {} });
    const survived = await Promise.race([socket.next((f) => f.id === MARKER, 20_000).then(() => true, () => false), socket.closed.then(() => false)]);
    count(socket.frames.slice(seen));
    seen = socket.frames.length;
    if (!survived) {
      socket.close();
      socket = undefined;
    }
  }
  socket?.close();
  tally.sent += sent;
}

const HTTP_BODIES = [
  () => ({ path: '/namespaces/default/workflows', body: { type: 'approval', workflowId: 'h-1', input: { request: 'r', timeoutMs: 60_000 } } }),
  () => ({ path: '/namespaces/default/workflows/fuzz-1/signal', body: { event: { type: 'APPROVE', by: 'ann' } } }),
  () => ({ path: '/namespaces/default/workflows/fuzz-2/update', body: { event: { type: 'APPROVE', by: 'ann' } } }),
  () => ({ path: '/namespaces/default/workflows/fuzz-3/signal-with-start', body: { type: 'approval', event: { type: 'APPROVE' }, input: {} } }),
  () => ({ path: '/namespaces', body: { name: 'fz', description: 'd', retention: '1d' } }),
  () => ({ path: '/namespaces/default', method: 'PATCH', body: { description: 'd' } }),
  () => ({ path: '/namespaces/default/schedules', body: { scheduleId: 's', spec: { interval: { every: '1h' } }, action: { workflowType: 'approval', input: { request: 'r', timeoutMs: 1000 } } } }),
  () => ({ path: '/namespaces/default/schedules', body: { scheduleId: 'c', spec: { cron: CRONS[0], timezone: 'Europe/Paris' }, action: { workflowType: 'approval' } } }),
  () => ({ path: '/namespaces/default/schedules/s/update', body: { spec: { interval: { every: '2h', offset: '5m' } } } }),
  () => ({ path: '/namespaces/default/workflows/fuzz-4/reset', body: { eventSeq: 1 } }),
] as const;

function mutateText(rng: Rng, text: string): string {
  switch (rng.int(4)) {
    case 0: {
      const i = rng.int(text.length);
      return text.slice(0, i) + String.fromCharCode(rng.int(128)) + text.slice(i + 1);
    }
    case 1: return text.slice(0, rng.int(text.length));
    case 2: return text.slice(0, rng.int(text.length)) + text.slice(rng.int(text.length));
    default: return text.replace(/"[a-zA-Z]+":/, `"${rng.pick(WEIRD_KEYS)}":`);
  }
}

function httpRequest(rng: Rng): { path: string; method: string; body: string; contentType: string } {
  const template = rng.pick(HTTP_BODIES)();
  const method = 'method' in template ? template.method : 'POST';
  const value = rng.chance(0.5) ? structuredClone(template.body) as Record<string, unknown> : (randomValue(rng) as Record<string, unknown>);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (let i = rng.int(3); i > 0; i--) setKey(value, rng.chance(0.5) ? rng.pick(Object.keys(value).concat('x')) : randomString(rng), randomValue(rng), true);
  }
  let body = JSON.stringify(value) ?? 'null';
  if (rng.chance(0.3)) body = mutateText(rng, body);
  if (rng.chance(0.05)) body = `{"type":"approval","workflowId":"deep","input":${'['.repeat(3000)}${']'.repeat(3000)}}`;
  const contentType = rng.chance(0.95) ? 'application/json' : rng.pick(['text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded']);
  return { path: template.path, method, body, contentType };
}

describe('a seeded fuzz of the wire and the HTTP API', () => {
  it(`answers ${WS_FRAMES.toLocaleString('en')} random and mutated WebSocket frames with coded errors, and stays up`, async () => {
    const tally: Tally = { sent: 0, answers: 0, errors: new Map(), uncoded: [], connections: 0 };
    const started = Date.now();
    // One PRNG per lane (forked from the seed), so a run is the same whatever the interleaving.
    // Lane 0 plays a worker, the others clients.
    await Promise.all(Array.from({ length: WS_CONNECTIONS }, (_, i) => fuzzConnection(prng(SEED + i + 1), tally, Math.ceil(WS_FRAMES / WS_CONNECTIONS), i === 0 ? 'worker' : 'client')));
    console.log(`WebSocket fuzz: ${tally.sent} frames over ${tally.connections} connections in ${Date.now() - started} ms, ${tally.answers} answers; errors by code: ${JSON.stringify(Object.fromEntries(tally.errors))}`);
    expect(tally.uncoded.slice(0, 5)).toEqual([]);
    expect(tally.sent).toBeGreaterThanOrEqual(WS_FRAMES);
    expect(await healthz(server.url)).toBe(200);
  }, 300_000); // a throughput-bound run: 100,000 frames take minutes on a loaded 2-core machine

  it(`answers ${HTTP_REQUESTS.toLocaleString('en')} random and mutated JSON bodies with 4xx { code, message }, never 500`, async () => {
    const tally = { byStatus: new Map<number, number>(), bad: [] as string[] };
    const started = Date.now();
    await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, async (_, lane) => {
      const rng = prng(SEED + 1000 + lane);
      for (let i = 0; i < HTTP_REQUESTS / HTTP_CONCURRENCY; i++) {
        const request = httpRequest(rng);
        const response = await fetch(`${server.url}/api/v1${request.path}`, { method: request.method, headers: { 'content-type': request.contentType }, body: request.body });
        const text = await response.text();
        tally.byStatus.set(response.status, (tally.byStatus.get(response.status) ?? 0) + 1);
        if (response.status >= 400) {
          let body: { code?: unknown; message?: unknown } = {};
          try {
            body = JSON.parse(text) as typeof body;
          } catch { /* recorded below */ }
          if (response.status >= 500 || typeof body.code !== 'string' || typeof body.message !== 'string') {
            tally.bad.push(`${response.status} ${request.method} ${request.path} ${request.body.slice(0, 300)} → ${text.slice(0, 300)}`);
          }
        }
      }
    }));
    console.log(`HTTP fuzz: ${HTTP_REQUESTS} requests in ${Date.now() - started} ms; by status: ${JSON.stringify(Object.fromEntries(tally.byStatus))}`);
    expect(tally.bad.slice(0, 5)).toEqual([]);
  }, 300_000);

  it('leaves the server up, serving a real start and its result, with Object.prototype untouched', async () => {
    expect(await healthz(server.url)).toBe(200);
    // The prototype check runs inside the server, with nothing exposed for it: the counter
    // machine's context factory reads `input?.total` and `input?.rollAt` of the input `{}`. Had
    // any fuzzed `__proto__` or `constructor.prototype` key polluted Object.prototype in the
    // server process (the one that parses HTTP bodies, decodes frames and runs machines), those
    // reads would see POISON's `total: 666` and `rollAt: 1` through the prototype chain, and
    // the output would not be `{ total: 0 }`.
    const client = await WireClient.connect(server.wsUrl);
    try {
      const workflowId = `after-fuzz-${SEED}`;
      await client.start('counter', { workflowId, input: {} });
      const described = await client.describe(workflowId);
      expect(described.state).toMatchObject({ context: { total: 0, rollAt: 200, rolling: false } });
      await client.call('signal', { workflowId, event: { type: 'FINISH' } });
      expect(await client.result(workflowId)).toMatchObject({ status: 'completed', output: { total: 0 } });
      // And over HTTP: a JSON answer built by the server from a fresh object has no inherited key.
      const response = await fetch(`${server.url}/api/v1/namespaces/default/workflows/${workflowId}`);
      const body = (await response.json()) as { state: { context: Record<string, unknown> } };
      expect(Object.keys(body.state.context).sort()).toEqual(['rolling', 'rollAt', 'total'].sort());
    } finally {
      client.close();
    }
  }, 60_000);
});
