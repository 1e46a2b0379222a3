import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesGcmCodec } from '../../../src/common/aes-gcm-codec.ts';
import { InvalidArgumentError } from '../../../src/common/errors.ts';
import { decodePayload, encodePayload, PayloadCodecError, type EncodedPayload } from '../../../src/common/payload-codec.ts';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const card = { number: '4242424242424242', holder: 'Ann Example' };

async function rejection(promise: Promise<unknown>): Promise<PayloadCodecError> {
  try {
    await promise;
  } catch (error) {
    return error as PayloadCodecError;
  }
  throw new Error('expected a rejection');
}

/** The envelope with its data's bytes changed by `change`. */
function withData(envelope: EncodedPayload, change: (bytes: Buffer) => void): EncodedPayload {
  const bytes = Buffer.from(envelope.data, 'base64');
  change(bytes);
  return { ...envelope, data: bytes.toString('base64') };
}

describe('aesGcmCodec', () => {
  it('round-trips a value through an envelope that names the codec and the key, with a fresh IV each time', async () => {
    const codec = aesGcmCodec({ keys: { k1 }, currentKeyId: 'k1' });
    const a = await encodePayload(card, codec);
    const b = await encodePayload(card, codec);
    expect(Object.keys(a)).toEqual(['$perdure.encoded', 'key', 'data']);
    expect(a).toMatchObject({ '$perdure.encoded': 'aes-256-gcm', key: 'k1' });
    expect(a.data).not.toBe(b.data);
    expect(Buffer.from(a.data, 'base64').includes(card.number)).toBe(false);
    expect(await decodePayload(a, codec)).toEqual(card);
    expect(await decodePayload(b, codec)).toEqual(card);
  });

  it('rotates keys: a codec with the new key current reads values of the old key and writes with the new one', async () => {
    const before = await encodePayload(card, aesGcmCodec({ keys: { k1 }, currentKeyId: 'k1' }));
    const rotated = aesGcmCodec({ keys: { k1, k2 }, currentKeyId: 'k2' });
    const after = await encodePayload(card, rotated);
    expect(after.key).toBe('k2');
    expect(await decodePayload(before, rotated)).toEqual(card);
    expect(await decodePayload(after, rotated)).toEqual(card);
  });

  it('refuses a value whose key it lacks with PAYLOAD_KEY_UNKNOWN, naming the key and the keys it has', async () => {
    const envelope = await encodePayload(card, aesGcmCodec({ keys: { k2 }, currentKeyId: 'k2' }));
    const error = await rejection(decodePayload(envelope, aesGcmCodec({ keys: { k1 }, currentKeyId: 'k1' })));
    expect(error).toBeInstanceOf(PayloadCodecError);
    expect(error).toMatchObject({ code: 'PAYLOAD_KEY_UNKNOWN', keyId: 'k2', codec: 'aes-256-gcm' });
    expect(error.message).toBe('PAYLOAD_KEY_UNKNOWN: a value was encrypted with key "k2", which this codec does not have (it has: k1). ' +
      'Add that key to aesGcmCodec({ keys }): keep rotated-out keys while values encrypted with them may be read.');
  });

  it.each([
    ['other key material under the same id', async (e: EncodedPayload) => e, aesGcmCodec({ keys: { k1: k2 }, currentKeyId: 'k1' }), /authentication failed/],
    ['a flipped ciphertext bit', async (e: EncodedPayload) => withData(e, (b) => (b[14] ^= 1)), undefined, /authentication failed/],
    ['a flipped tag bit', async (e: EncodedPayload) => withData(e, (b) => (b[b.length - 1] ^= 1)), undefined, /authentication failed/],
    ['its key id changed to another key the codec has', async (e: EncodedPayload) => ({ ...e, key: 'k2' }), undefined, /authentication failed/],
    ['data cut short', async (e: EncodedPayload) => ({ ...e, data: e.data.slice(0, 16) }), undefined, /too short/],
    ['another format version', async (e: EncodedPayload) => withData(e, (b) => (b[0] = 2)), undefined, /format version is 2/],
    ['no key id', async ({ key: _key, ...rest }: EncodedPayload) => rest as EncodedPayload, undefined, /names no key/],
    ['data that is not base64', async (e: EncodedPayload) => ({ ...e, data: `${e.data.slice(0, -4)}!!!!` }), undefined, /not base64/],
  ])('refuses a value with %s: PAYLOAD_DECODE_FAILED', async (_name, damage, reader, message) => {
    const codec = aesGcmCodec({ keys: { k1, k2 }, currentKeyId: 'k1' });
    const envelope = await damage(await encodePayload(card, codec));
    const error = await rejection(decodePayload(envelope, reader ?? codec));
    expect(error).toBeInstanceOf(PayloadCodecError);
    expect(error.code).toBe('PAYLOAD_DECODE_FAILED');
    expect(error.message).toMatch(message);
  });

  it.each([
    [{ keys: { k1: randomBytes(16) }, currentKeyId: 'k1' }, /key "k1" must be 32 bytes .* got 16 bytes/],
    [{ keys: { k1: 'not bytes' as unknown as Buffer }, currentKeyId: 'k1' }, /key "k1" must be 32 bytes .* got string/],
    [{ keys: { k1 }, currentKeyId: 'k9' }, /currentKeyId "k9" is not among the keys \(k1\)/],
    [{ keys: {}, currentKeyId: 'k1' }, /currentKeyId "k1" is not among the keys \(none\)/],
    [undefined, /aesGcmCodec\(\{ keys/],
  ])('refuses bad options with INVALID_ARGUMENT naming what is wrong (%#)', (options, message) => {
    expect(() => aesGcmCodec(options as never)).toThrow(InvalidArgumentError);
    expect(() => aesGcmCodec(options as never)).toThrow(message);
  });

  it('keeps its own copy of the keys: changing the caller\'s buffer afterwards changes nothing', async () => {
    const key = Buffer.from(k1);
    const codec = aesGcmCodec({ keys: { k1: key }, currentKeyId: 'k1' });
    const envelope = await encodePayload(card, codec);
    key.fill(0);
    expect(await decodePayload(envelope, codec)).toEqual(card);
  });
});
