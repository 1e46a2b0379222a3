import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from './errors.ts';
import { PayloadCodecError, type PayloadCodec } from './payload-codec.ts';

/** The name AES-GCM envelopes carry. */
export const AES_GCM_CODEC_NAME = 'aes-256-gcm';

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface AesGcmCodecOptions {
  /**
   * 32-byte keys by key id. Keep a rotated-out key here for as long as values encrypted with it
   * may still be read (open executions, histories you read back).
   */
  keys: Readonly<Record<string, Uint8Array>>;
  /** The key new values are encrypted with; it must be in `keys`. */
  currentKeyId: string;
}

/**
 * A payload codec that encrypts with AES-256-GCM (node:crypto), with key rotation: each envelope
 * names the key id it was encrypted with (`key`), and decoding picks that key.
 *
 * The encoded bytes are `version (1) ‖ IV (12, random) ‖ ciphertext ‖ tag (16)`; the codec name,
 * format version and key id are authenticated with the data, so an envelope whose `key` was
 * changed does not decode. Random 96-bit IVs are safe for up to 2³² values per key (NIST SP
 * 800-38D): rotate long before that.
 *
 * @throws InvalidArgumentError when a key is not 32 bytes or `currentKeyId` is not among the keys.
 * @example
 * import { aesGcmCodec } from 'perdure/client';
 * const codec = aesGcmCodec({
 *   keys: { '2025-06': Buffer.from(process.env.PAYLOAD_KEY_2025_06!, 'base64'), '2025-01': Buffer.from(process.env.PAYLOAD_KEY_2025_01!, 'base64') },
 *   currentKeyId: '2025-06',
 * });
 * const client = await Client.connect({ address, payloadCodec: { codec, encodeFields: ['card'] } });
 */
export function aesGcmCodec(options: AesGcmCodecOptions): PayloadCodec {
  if (typeof options !== 'object' || options === null || typeof options.keys !== 'object' || options.keys === null) {
    throw new InvalidArgumentError('aesGcmCodec({ keys: { [keyId]: 32-byte key }, currentKeyId })');
  }
  const keys = new Map<string, Buffer>();
  for (const [id, key] of Object.entries(options.keys)) {
    if (id === '' || id.length > 200) throw new InvalidArgumentError('aesGcmCodec: a key id must be 1 to 200 characters');
    if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
      throw new InvalidArgumentError(`aesGcmCodec: key "${id}" must be ${KEY_BYTES} bytes (a Buffer or Uint8Array), got ${key instanceof Uint8Array ? `${key.byteLength} bytes` : typeof key}`);
    }
    keys.set(id, Buffer.from(key)); // a copy: changing the caller's buffer later changes nothing here
  }
  const currentKeyId = options.currentKeyId;
  const current = keys.get(currentKeyId);
  if (!current) {
    throw new InvalidArgumentError(`aesGcmCodec: currentKeyId "${String(currentKeyId)}" is not among the keys (${[...keys.keys()].join(', ') || 'none'})`);
  }
  return {
    name: AES_GCM_CODEC_NAME,
    keyId: currentKeyId,
    async encode(bytes) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(associatedData(currentKeyId));
      const body = Buffer.concat([cipher.update(bytes), cipher.final()]);
      return Buffer.concat([Buffer.of(FORMAT_VERSION), iv, body, cipher.getAuthTag()]);
    },
    async decode(bytes, keyId) {
      const failed = (why: string) => new PayloadCodecError('PAYLOAD_DECODE_FAILED',
        `a value encoded by codec "${AES_GCM_CODEC_NAME}"${keyId === undefined ? '' : ` with key "${keyId}"`} could not be decoded: ${why}.`, AES_GCM_CODEC_NAME, keyId);
      if (keyId === undefined) throw failed('its envelope names no key');
      const key = keys.get(keyId);
      if (!key) {
        throw new PayloadCodecError('PAYLOAD_KEY_UNKNOWN',
          `a value was encrypted with key "${keyId}", which this codec does not have (it has: ${[...keys.keys()].join(', ')}). ` +
            'Add that key to aesGcmCodec({ keys }): keep rotated-out keys while values encrypted with them may be read.', AES_GCM_CODEC_NAME, keyId);
      }
      if (bytes.byteLength < 1 + IV_BYTES + TAG_BYTES) throw failed(`its data is ${bytes.byteLength} bytes, too short to be AES-GCM output`);
      if (bytes[0] !== FORMAT_VERSION) throw failed(`its format version is ${bytes[0]}, this codec reads version ${FORMAT_VERSION}`);
      const iv = bytes.subarray(1, 1 + IV_BYTES);
      const body = bytes.subarray(1 + IV_BYTES, bytes.byteLength - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(associatedData(keyId));
      decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(body), decipher.final()]);
      } catch {
        throw failed(`authentication failed: the data was changed, or key "${keyId}" here is not the key it was encrypted with`);
      }
    },
  };
}

/** What is authenticated beside the data: the codec, the format and the key id the envelope names. */
function associatedData(keyId: string): Buffer {
  return Buffer.from(`${AES_GCM_CODEC_NAME}/v${FORMAT_VERSION}/${keyId}`, 'utf8');
}
