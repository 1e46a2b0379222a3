import { describe, expect, it } from 'vitest';
import { CodecError } from '../../../src/common/codec.ts';
import { ApplicationFailure } from '../../../src/common/failures.ts';
import { encodePayload, PayloadCodecError, type PayloadCodec } from '../../../src/common/payload-codec.ts';
import type { ActivityTask } from '../../../src/common/worker-protocol.ts';
import { ActivityPayloads, payloadFailure } from '../../../src/worker/activity-payloads.ts';
import { InvalidArgumentError, Worker } from '../../../src/worker/index.ts';

const reverse: PayloadCodec = {
  name: 'reverse',
  encode: async (bytes) => Uint8Array.from(bytes).reverse(),
  decode: async (bytes) => Uint8Array.from(bytes).reverse(),
};

const task = (input: unknown, heartbeatDetails?: unknown): ActivityTask => ({
  taskToken: 't', namespace: 'default', taskQueue: 'q', activityType: 'charge', activityId: 'a', workflowId: 'w', workflowType: 'order',
  runId: 'r', attempt: 2, input, scheduledAt: 0, ...(heartbeatDetails === undefined ? {} : { heartbeatDetails }),
});

describe('ActivityPayloads', () => {
  const payloads = new ActivityPayloads({ codec: reverse, encodeFields: ['receipt', 'cursor'] });

  it('decodes envelopes anywhere in the input and in the heartbeat details, leaving the task given as it was', async () => {
    const card = await encodePayload({ number: '4242' }, reverse);
    const given = task({ order: { card }, amount: 3 }, { cursor: await encodePayload(7, reverse) });
    const seen = await payloads.decodeTask(given);
    expect(seen.input).toEqual({ order: { card: { number: '4242' } }, amount: 3 });
    expect(seen.heartbeatDetails).toEqual({ cursor: 7 });
    expect((given.input as { order: { card: unknown } }).order.card).toBe(card);
  });

  it('hands back the task itself when it holds no envelope', async () => {
    const given = task({ amount: 3 });
    expect(await payloads.decodeTask(given)).toBe(given);
  });

  it('encodes the selected fields of outputs and heartbeat details', async () => {
    const output = (await payloads.encodeOutput('charge', { chargeId: 'c1', receipt: { code: 'x' } })) as Record<string, unknown>;
    expect(output.chargeId).toBe('c1');
    expect(output.receipt).toMatchObject({ '$perdure.encoded': 'reverse' });
    expect(await payloads.encodeHeartbeat('charge', { cursor: 1, done: 2 })).toMatchObject({ cursor: { '$perdure.encoded': 'reverse' }, done: 2 });
  });
});

describe('payloadFailure', () => {
  it.each([
    ['PAYLOAD_DECODE_FAILED', undefined, true],
    ['PAYLOAD_KEY_UNKNOWN', undefined, false],
    ['PAYLOAD_CODEC_UNKNOWN', undefined, false],
    ['PAYLOAD_ENCODE_FAILED', new Error('key service down'), false],
    ['PAYLOAD_ENCODE_FAILED', new CodecError('a function is not allowed'), true],
  ] as const)('fails the attempt on %s as an ApplicationFailure of that type (cause %s): nonRetryable %s', (code, cause, nonRetryable) => {
    const failure = payloadFailure(new PayloadCodecError(code, 'what happened', 'aes-256-gcm', 'k1', { cause }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: code, nonRetryable, message: 'what happened' });
  });

  it('returns other errors as they are', () => {
    const error = new Error('boom');
    expect(payloadFailure(error)).toBe(error);
  });
});

describe('Worker.create with a payload codec', () => {
  it('refuses a codec without encodeFields, naming the fix', () => {
    const create = () => Worker.create({ address: '127.0.0.1:1', taskQueue: 'q', activities: {}, payloadCodec: { codec: reverse } as never });
    expect(create).toThrow(InvalidArgumentError);
    expect(create).toThrow(/Worker.create: payloadCodec.encodeFields is required/);
  });
});
