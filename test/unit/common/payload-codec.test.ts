import { describe, expect, expectTypeOf, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/common/errors.ts';
import {
  checkPayloadCodecOptions, decodePayload, decodePayloads, encodeFields, encodePayload, isEncodedPayload, PayloadCodecError,
  type Decoded, type Encoded, type PayloadCodec, type PayloadSite,
} from '../../../src/common/payload-codec.ts';

/** A codec that reverses the bytes: enough to see what was encoded, and to tell encoded from plain. */
const reverse: PayloadCodec = {
  name: 'reverse',
  encode: async (bytes) => Uint8Array.from(bytes).reverse(),
  decode: async (bytes) => Uint8Array.from(bytes).reverse(),
};

async function rejection(promise: Promise<unknown>): Promise<PayloadCodecError> {
  try {
    await promise;
  } catch (error) {
    return error as PayloadCodecError;
  }
  throw new Error('expected a rejection');
}

describe('envelopes', () => {
  it('are recognised only in their exact shape', async () => {
    const envelope = await encodePayload('secret', reverse);
    expect(envelope).toEqual({ '$perdure.encoded': 'reverse', data: expect.any(String) });
    expect(isEncodedPayload(envelope)).toBe(true);
    expect(isEncodedPayload({ ...envelope, key: 'k1' })).toBe(true);
    expect(isEncodedPayload({ ...envelope, extra: 1 })).toBe(false);
    expect(isEncodedPayload({ ...envelope, key: 7 })).toBe(false);
    expect(isEncodedPayload({ '$perdure.encoded': 'reverse' })).toBe(false);
    expect(isEncodedPayload([envelope])).toBe(false);
    expect(isEncodedPayload(null)).toBe(false);
  });

  it('keep the msgpack data model: dates, bytes, nested values and null come back as they went', async () => {
    const value = { at: new Date(1_700_000_000_000), bytes: Uint8Array.of(1, 2, 3), list: [1, 'two', { three: null }] };
    const back = await decodePayload(await encodePayload(value, reverse), reverse);
    expect(back).toEqual(value);
    expect((back as typeof value).at).toBeInstanceOf(Date);
  });

  it('name their codec, and another codec refuses them with PAYLOAD_CODEC_UNKNOWN', async () => {
    const error = await rejection(decodePayload(await encodePayload(1, reverse), { ...reverse, name: 'other' }));
    expect(error).toMatchObject({ code: 'PAYLOAD_CODEC_UNKNOWN', codec: 'reverse' });
    expect(error.message).toMatch(/encoded by codec "reverse", and this process has only codec "other"/);
  });

  it('wrap what a codec throws: PAYLOAD_DECODE_FAILED and PAYLOAD_ENCODE_FAILED, with the cause', async () => {
    const cause = new Error('key service unreachable');
    const broken: PayloadCodec = { name: 'kms', keyId: 'kms-1', encode: () => Promise.reject(cause), decode: () => Promise.reject(cause) };
    const encodeError = await rejection(encodePayload(1, broken));
    expect(encodeError).toMatchObject({ code: 'PAYLOAD_ENCODE_FAILED', codec: 'kms', keyId: 'kms-1', cause });
    expect(encodeError.message).toBe('PAYLOAD_ENCODE_FAILED: codec "kms" could not encode a value: key service unreachable');
    const decodeError = await rejection(decodePayload({ '$perdure.encoded': 'kms', key: 'kms-1', data: 'AA==' }, broken));
    expect(decodeError).toMatchObject({ code: 'PAYLOAD_DECODE_FAILED', cause });
    expect(decodeError.message).toBe('PAYLOAD_DECODE_FAILED: a value encoded by codec "kms" with key "kms-1" could not be decoded: key service unreachable.');
  });

  it('refuse bytes that decode to no value: PAYLOAD_DECODE_FAILED', async () => {
    const garbage: PayloadCodec = { ...reverse, decode: async () => Uint8Array.of(0xc1) }; // 0xc1: never used in msgpack
    const error = await rejection(decodePayload(await encodePayload(1, reverse), garbage));
    expect(error.code).toBe('PAYLOAD_DECODE_FAILED');
    expect(error.message).toMatch(/decoded to bytes that are not a value/);
  });
});

describe('encodeFields', () => {
  const site: PayloadSite = { kind: 'event', type: 'PAY' };

  it('encodes the named top-level fields only, never `type`, and leaves the value given untouched', async () => {
    const event = { type: 'PAY', card: { number: '4242' }, amount: 42, nested: { card: 'stays' } };
    const sent = (await encodeFields(event, site, { codec: reverse, encodeFields: ['card', 'type'] })) as Record<string, unknown>;
    expect(sent).toEqual({ type: 'PAY', card: expect.objectContaining({ '$perdure.encoded': 'reverse' }), amount: 42, nested: { card: 'stays' } });
    expect(event.card).toEqual({ number: '4242' });
    expect(await decodePayload(sent.card as Encoded<unknown>, reverse)).toEqual({ number: '4242' });
  });

  it('asks a selecting function about each field with where it was found', async () => {
    const asked: [string, PayloadSite][] = [];
    const sent = await encodeFields({ type: 'PAY', a: 1, b: 2 }, site, {
      codec: reverse, encodeFields: (field, where) => (asked.push([field, where]), field === 'b'),
    });
    expect(asked).toEqual([['a', site], ['b', site]]);
    expect(isEncodedPayload((sent as { b: unknown }).b)).toBe(true);
    expect((sent as { a: unknown }).a).toBe(1);
  });

  it('returns the value itself when nothing is selected, when it is no plain object, and leaves undefined and encoded fields alone', async () => {
    const options = { codec: reverse, encodeFields: ['card'] };
    const none = { amount: 1 };
    expect(await encodeFields(none, site, options)).toBe(none);
    expect(await encodeFields('card', site, options)).toBe('card');
    expect(await encodeFields(['card'], site, options)).toEqual(['card']);
    const already = { card: await encodePayload(1, reverse), other: undefined };
    expect(await encodeFields(already, site, options)).toBe(already);
    expect(await encodeFields({ card: undefined }, site, options)).toEqual({ card: undefined });
  });
});

describe('decodePayloads', () => {
  it('decodes envelopes at any depth, in arrays too, copying only what changes', async () => {
    const [a, b] = [await encodePayload({ n: 1 }, reverse), await encodePayload('two', reverse)];
    const untouched = { plain: true };
    const value = { events: [{ kind: 'x', input: { card: a } }, { kind: 'y', list: [b, 3] }], untouched };
    const decoded = await decodePayloads(value, reverse);
    expect(decoded).toEqual({ events: [{ kind: 'x', input: { card: { n: 1 } } }, { kind: 'y', list: ['two', 3] }], untouched });
    expect(decoded.untouched).toBe(untouched);
    expect(value.events[0]!.input!.card).toBe(a);
  });

  it('returns the value itself when it holds no envelope', async () => {
    const value = { a: [1, { b: 'c' }], d: new Date(0) };
    expect(await decodePayloads(value, reverse)).toBe(value);
  });

  it('decodes envelopes found inside decoded values', async () => {
    const inner = await encodePayload('innermost', reverse);
    const outer = await encodePayload({ inner }, reverse);
    expect(await decodePayloads([outer], reverse)).toEqual([{ inner: 'innermost' }]);
  });
});

describe('checkPayloadCodecOptions', () => {
  it.each([
    [undefined, /payloadCodec must be \{ codec, encodeFields \}/],
    [{ codec: { name: '', encode: reverse.encode, decode: reverse.decode }, encodeFields: [] }, /non-empty name/],
    [{ codec: { name: 'x' }, encodeFields: [] }, /encode\(bytes\) and decode\(bytes\)/],
    [{ codec: reverse }, /encodeFields is required: name the fields to encode \(\["card"\]\), or pass \[\] to only decode/],
    [{ codec: reverse, encodeFields: 'card' }, /array of field names or a function/],
    [{ codec: reverse, encodeFields: ['type'] }, /must not name "type"/],
  ])('refuses %j with INVALID_ARGUMENT', (options, message) => {
    expect(() => checkPayloadCodecOptions(options, 'Client.connect')).toThrow(InvalidArgumentError);
    expect(() => checkPayloadCodecOptions(options, 'Client.connect')).toThrow(message);
  });

  it('accepts a codec with a list or a function', () => {
    const select = () => false;
    expect(checkPayloadCodecOptions({ codec: reverse, encodeFields: ['card'] }, 'x')).toEqual({ codec: reverse, encodeFields: ['card'] });
    expect(checkPayloadCodecOptions({ codec: reverse, encodeFields: select }, 'x').encodeFields).toBe(select);
  });
});

describe('the Encoded and Decoded types', () => {
  it('give the machine an opaque field and the SDK user the plaintext (compile-checked)', () => {
    interface Card { number: string }
    interface Input { amount: number; card: Encoded<Card>; cards: Encoded<Card>[]; at: Date }
    expectTypeOf<Decoded<Input>>().toEqualTypeOf<{ amount: number; card: Card; cards: Card[]; at: Date }>();
    expectTypeOf<Decoded<{ type: 'A'; card: Encoded<Card> } | { type: 'B' }>>().toEqualTypeOf<{ type: 'A'; card: Card } | { type: 'B' }>();
    // @ts-expect-error — the machine cannot read into an encoded card
    const read = (input: Input) => input.card.number;
    expect(read).toBeTypeOf('function');
  });
});
