import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { secureOrderActivityImplementations } from '../../machines/secure-order-activities.ts';
import { secureOrderWorkflow, type Card, type Receipt } from '../../machines/secure-order.ts';
import {
  aesGcmCodec, Client, isEncodedPayload, PayloadCodecError, type HistoryEvent, type PayloadCodec,
} from '../../src/client/index.ts';
import { createServer, type PerdureServer } from '../../src/server/index.ts';
import { Worker, type ActivityContext } from '../../src/worker/index.ts';
import { longTaskWorkflow, type LongStepInput, type LongStepOutput, type LongTaskOutput } from '../fixtures/worker-machines.ts';

/**
 * Card numbers are 16 random digits and holders 24 random hex characters: values that appear in
 * no other record, so a search of the store's files finds them if (and only if) they are stored
 * in clear. LevelDB compresses its table files with snappy, which keeps a first occurrence of a
 * string as a literal but may turn a repeated one into a back-reference; so each test also finds
 * a plain value made the same way (the order id), and reads every entry back decompressed.
 */
const digits = () => Array.from({ length: 16 }, () => randomInt(10)).join('');
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const newCard = (): Card => ({ number: digits(), holder: `holder-${hex(12)}`, expiry: '12/29' });

async function startServer(): Promise<{ server: PerdureServer; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'perdure-codec-'));
  const server = await createServer({ workflows: [secureOrderWorkflow, longTaskWorkflow], dataDir, port: 0, logger: false, durability: 'os' });
  return { server, dataDir };
}

function startWorker(server: PerdureServer, codec: PayloadCodec | undefined, namespace = 'default'): { worker: Worker; running: Promise<void> } {
  const worker = Worker.create({
    address: server.url, namespace, taskQueue: 'secure-payments', activities: secureOrderActivityImplementations(),
    payloadCodec: codec && { codec, encodeFields: ['receipt'] },
  });
  return { worker, running: worker.run() };
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Which of `needles` occur in `haystack`. */
const found = (haystack: Buffer | string, needles: string[]) => needles.filter((n) => haystack.includes(n));

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('a card encrypted end to end through a real server', () => {
  const key = randomBytes(32);
  const codec = aesGcmCodec({ keys: { k1: key }, currentKeyId: 'k1' });
  let server: PerdureServer;
  let dataDir: string;
  let client: Client;
  let plainClient: Client;
  let worker: { worker: Worker; running: Promise<void> };

  beforeAll(async () => {
    ({ server, dataDir } = await startServer());
    client = await Client.connect({ address: server.url, payloadCodec: { codec, encodeFields: ['card'] } });
    plainClient = await Client.connect({ address: server.url });
    worker = startWorker(server, codec);
  });
  afterAll(async () => {
    await worker?.worker.shutdown();
    await worker?.running;
    await client?.close();
    await plainClient?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Runs an order above the review amount, replacing its card while it waits; returns what the test checks. */
  async function runReviewedOrder() {
    const orderId = `order-${hex(16)}`;
    const [first, second] = [newCard(), newCard()];
    const handle = await client.start<typeof secureOrderWorkflow>('secureOrder', { workflowId: orderId, input: { orderId, amount: 1500, card: first } });
    const waiting = await handle.query();
    await handle.signal({ type: 'UPDATE_CARD', card: second });
    await handle.update({ type: 'APPROVE', approver: 'ann' });
    const output = await handle.result();
    return { orderId, first, second, handle, waiting, output };
  }

  it('lets the worker charge the card it decrypted, and the client read the receipt the worker encrypted', async () => {
    const { orderId, first, second, handle, waiting, output } = await runReviewedOrder();
    // The guard read the plain amount; the client decrypted the card it finds in the context.
    expect(waiting).toMatchObject({ value: 'review', context: { amount: 1500, card: first } });
    expect(output).toMatchObject({ orderId, outcome: 'paid', chargeId: `ch_${orderId}`, declineReason: null });
    // The activity saw the card of the UPDATE_CARD signal, decrypted.
    expect(output.receipt).toEqual({ cardLast4: second.number.slice(-4), holder: second.holder, authCode: expect.stringMatching(/^[0-9a-f]{24}$/) });
    expectTypeOf(output.receipt).toEqualTypeOf<Receipt | null>();

    const history = await handle.history();
    const event = <K extends HistoryEvent['kind']>(kind: K) => history.find((e): e is Extract<HistoryEvent, { kind: K }> => e.kind === kind)!;
    expect(event('WorkflowStarted').input).toEqual({ orderId, amount: 1500, card: first });
    expect(event('SignalReceived').event).toEqual({ type: 'UPDATE_CARD', card: second });
    expect(event('ActivityScheduled').input).toEqual({ orderId, amount: 1500, card: second });
    expect(event('ActivityCompleted').output).toEqual({ chargeId: `ch_${orderId}`, receipt: output.receipt });
    expect((await handle.describe()).state.context).toMatchObject({ card: second, receipt: output.receipt });
  });

  it('gives the server only envelopes: the HTTP history holds no card, and a client without the codec sees them as they are', async () => {
    const { orderId, first, second, output } = await runReviewedOrder();
    const secrets = [first.number, first.holder, second.number, second.holder, output.receipt!.authCode, output.receipt!.holder];

    const response = await fetch(`${server.url}/api/v1/namespaces/default/workflows/${orderId}/history`);
    const body = await response.text();
    expect(response.status).toBe(200);
    expect(found(body, [orderId])).toEqual([orderId]);
    expect(found(body, secrets)).toEqual([]);
    const events = (JSON.parse(body) as { events: HistoryEvent[] }).events;
    const started = events.find((e) => e.kind === 'WorkflowStarted') as Extract<HistoryEvent, { kind: 'WorkflowStarted' }>;
    expect(started.input).toEqual({ orderId, amount: 1500, card: { '$perdure.encoded': 'aes-256-gcm', key: 'k1', data: expect.any(String) } });

    const seen = await plainClient.getHandle<typeof secureOrderWorkflow>(orderId).result();
    expect(seen.orderId).toBe(orderId);
    expect(isEncodedPayload(seen.receipt)).toBe(true);
    expect(isEncodedPayload(((await plainClient.getHandle(orderId).query()).context as { card: unknown }).card)).toBe(true);
  });

  it('encodes both the input and the event of signalWithStart', async () => {
    const orderId = `order-${hex(8)}`;
    const [first, second] = [newCard(), newCard()];
    const handle = await client.signalWithStart<typeof secureOrderWorkflow>('secureOrder', {
      workflowId: orderId, input: { orderId, amount: 5000, card: first }, event: { type: 'UPDATE_CARD', card: second },
    });
    expect((await handle.query()).context).toMatchObject({ card: second });
    const stored = await plainClient.getHandle(orderId).history();
    const started = stored.find((e) => e.kind === 'WorkflowStarted') as Extract<HistoryEvent, { kind: 'WorkflowStarted' }>;
    const signalled = stored.find((e) => e.kind === 'SignalReceived') as Extract<HistoryEvent, { kind: 'SignalReceived' }>;
    expect(isEncodedPayload((started.input as { card: unknown }).card)).toBe(true);
    expect(signalled.event).toEqual({ type: 'UPDATE_CARD', card: expect.objectContaining({ '$perdure.encoded': 'aes-256-gcm' }) });
    await handle.signal({ type: 'REJECT', approver: 'bob' });
    expect((await handle.result()).outcome).toBe('rejected');
  });

  it('refuses a payload codec without encodeFields before connecting (INVALID_ARGUMENT)', async () => {
    const error = await rejection(Client.connect({ address: server.url, payloadCodec: { codec } as never }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/Client.connect: payloadCodec.encodeFields is required/);
  });

  it('leaves no plaintext card in the server\'s LevelDB: neither in its files nor in any entry read back decompressed', async () => {
    const runs = [await runReviewedOrder(), await runReviewedOrder()];
    const secrets = runs.flatMap(({ first, second, output }) => [first.number, first.holder, second.number, second.holder, output.receipt!.authCode]);
    const controls = runs.map((r) => r.orderId);
    // Stop everything that writes, so the files are complete and LevelDB's lock is free.
    await worker.worker.shutdown();
    await worker.running;
    await server.close();

    /** Every byte of every file in the data directory, as stored. */
    const rawBytes = async () => Buffer.concat(await Promise.all((await filesUnder(dataDir)).map((f) => readFile(f))));
    // Just written, the entries are in LevelDB's log, uncompressed.
    const written = await rawBytes();
    expect(found(written, controls)).toEqual(controls);
    expect(found(written, secrets)).toEqual([]);

    // Every key and value, decompressed by LevelDB itself. Opening the store also moves the log
    // into a table file, compressed with snappy (LevelDB's default, which classic-level keeps).
    const current = (await filesUnder(dataDir)).find((f) => f.endsWith('/CURRENT'));
    expect(current, `no LevelDB under ${dataDir}`).toBeDefined();
    const db = new ClassicLevel<Buffer, Buffer>(dirname(current!), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const entries: Buffer[] = [];
    try {
      for await (const [k, v] of db.iterator()) entries.push(k, v);
    } finally {
      await db.close();
    }
    const all = Buffer.concat(entries);
    expect(found(all, controls)).toEqual(controls);
    expect(found(all, secrets)).toEqual([]);

    // And the files again, now that the entries are in a compressed table.
    expect((await filesUnder(dataDir)).some((f) => f.endsWith('.ldb'))).toBe(true);
    const compacted = await rawBytes();
    expect(found(compacted, controls)).toEqual(controls);
    expect(found(compacted, secrets)).toEqual([]);
  });
});

describe('keys that do not match', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  let server: PerdureServer;
  let dataDir: string;

  beforeAll(async () => {
    ({ server, dataDir } = await startServer());
  });
  afterAll(async () => {
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts an order in its own namespace, encrypted with `clientCodec`, worked by a worker with `workerCodec`; resolves with the closed run. */
  async function orderWith(namespace: string, clientCodec: PayloadCodec, workerCodec: PayloadCodec) {
    await server.engine.namespaces.create({ name: namespace });
    const client = await Client.connect({ address: server.url, namespace, payloadCodec: { codec: clientCodec, encodeFields: ['card'] } });
    const worker = startWorker(server, workerCodec, namespace);
    try {
      const orderId = `order-${hex(8)}`;
      const handle = await client.start<typeof secureOrderWorkflow>('secureOrder', { workflowId: orderId, input: { orderId, amount: 10, card: newCard() } });
      const output = await handle.result();
      return { output, history: await handle.history(), worker: worker.worker, client };
    } finally {
      await worker.worker.shutdown();
      await worker.running;
      await client.close();
    }
  }

  it('fails the activity without retrying when the card was encrypted with other key material under the same id (PAYLOAD_DECODE_FAILED)', async () => {
    const { output, history } = await orderWith('wrong-material', aesGcmCodec({ keys: { k1 }, currentKeyId: 'k1' }), aesGcmCodec({ keys: { k1: k2 }, currentKeyId: 'k1' }));
    expect(output.outcome).toBe('declined');
    expect(output.declineReason).toMatch(/key "k1" here is not the key it was encrypted with/);
    expect(history.filter((e) => e.kind === 'ActivityAttemptFailed')).toEqual([]);
    expect(history.find((e) => e.kind === 'ActivityFailed')).toMatchObject({
      attempt: 1,
      failure: { code: 'ACTIVITY_FAILURE', retryState: 'nonRetryableFailure', cause: { code: 'APPLICATION_FAILURE', type: 'PAYLOAD_DECODE_FAILED', nonRetryable: true } },
    });
  });

  it('retries the activity when the worker lacks the key the card names (PAYLOAD_KEY_UNKNOWN: a rotation not yet deployed everywhere), and the worker keeps working', async () => {
    const rotated = aesGcmCodec({ keys: { k1, k2 }, currentKeyId: 'k2' });
    const old = aesGcmCodec({ keys: { k1 }, currentKeyId: 'k1' });
    const { output, history } = await orderWith('rotating', rotated, old);
    expect(output.outcome).toBe('declined');
    expect(output.declineReason).toMatch(/encrypted with key "k2", which this codec does not have \(it has: k1\)/);
    expect(history.filter((e) => e.kind === 'ActivityAttemptFailed')).toHaveLength(2);
    expect(history.find((e) => e.kind === 'ActivityFailed')).toMatchObject({
      attempt: 3, failure: { retryState: 'maximumAttemptsReached', cause: { type: 'PAYLOAD_KEY_UNKNOWN', nonRetryable: false } },
    });
    // A worker that has both keys reads values of either.
    const healed = await orderWith('rotated', rotated, aesGcmCodec({ keys: { k1, k2 }, currentKeyId: 'k1' }));
    expect(healed.output.outcome).toBe('paid');
  });

  it('rejects a client\'s read with PAYLOAD_KEY_UNKNOWN or PAYLOAD_DECODE_FAILED when its codec cannot decrypt what it reads', async () => {
    const codec = aesGcmCodec({ keys: { k1 }, currentKeyId: 'k1' });
    const { output } = await orderWith('readers', codec, codec);
    expect(output.outcome).toBe('paid');
    const handleWith = async (reader: PayloadCodec) => {
      const c = await Client.connect({ address: server.url, namespace: 'readers', payloadCodec: { codec: reader, encodeFields: [] } });
      return { c, handle: c.getHandle<typeof secureOrderWorkflow>(output.orderId) };
    };
    const unknown = await handleWith(aesGcmCodec({ keys: { k2 }, currentKeyId: 'k2' }));
    const wrong = await handleWith(aesGcmCodec({ keys: { k1: k2 }, currentKeyId: 'k1' }));
    try {
      const missing = await rejection(unknown.handle.result());
      expect(missing).toBeInstanceOf(PayloadCodecError);
      expect(missing).toMatchObject({ code: 'PAYLOAD_KEY_UNKNOWN', keyId: 'k1', codec: 'aes-256-gcm' });
      expect(missing.message).toMatch(/^PAYLOAD_KEY_UNKNOWN: a value was encrypted with key "k1", which this codec does not have \(it has: k2\)/);
      const corrupt = await rejection(wrong.handle.history());
      expect(corrupt).toMatchObject({ code: 'PAYLOAD_DECODE_FAILED', keyId: 'k1' });
      expect(corrupt.message).toMatch(/authentication failed/);
    } finally {
      await unknown.c.close();
      await wrong.c.close();
    }
  });
});

describe('heartbeat details', () => {
  it('are encoded by the worker when they leave, and decoded for the next attempt (info.heartbeatDetails)', async () => {
    const { server, dataDir } = await startServer();
    const codec = aesGcmCodec({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
    const cursor = `cursor-${hex(16)}`;
    const marker = `marker-${hex(16)}`; // left plain: proves the details reached the disk
    // Attempt 1 heartbeats its cursor and hangs until the heartbeat timeout (1 s) ends it;
    // attempt 2 says whether it got the cursor back as it was.
    const longStep = async (input: LongStepInput, ctx: ActivityContext): Promise<LongStepOutput> => {
      if (ctx.info.attempt === 1) {
        ctx.heartbeat({ done: 1, cursor, marker });
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
      }
      const details = ctx.info.heartbeatDetails as { done?: number; cursor?: unknown } | undefined;
      return { steps: input.steps, resumedFrom: details?.done ?? 0, attempt: ctx.info.attempt, worker: details?.cursor === cursor ? 'cursor decoded' : JSON.stringify(details) };
    };
    const worker = Worker.create({ address: server.url, taskQueue: 'long', activities: { longStep }, payloadCodec: { codec, encodeFields: ['cursor'] } });
    const running = worker.run();
    const client = await Client.connect({ address: server.url });
    try {
      const handle = await client.start('longTask', { workflowId: `hb-${hex(4)}`, input: { steps: 2, stepMs: 0 } });
      const output = (await handle.result()) as LongTaskOutput;
      expect(output.result).toMatchObject({ attempt: 2, resumedFrom: 1, worker: 'cursor decoded' });
    } finally {
      await worker.shutdown();
      await running;
      await client.close();
      await server.close();
    }
    // The server kept the details (in the run record, in LevelDB's log) with the cursor encoded.
    const raw = Buffer.concat(await Promise.all((await filesUnder(dataDir)).map((f) => readFile(f))));
    await rm(dataDir, { recursive: true, force: true });
    expect(found(raw, [marker, cursor])).toEqual([marker]);
  });
});
