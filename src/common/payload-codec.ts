import { decode, encode } from './codec.ts';
import type { ErrorCode } from './error-codes.ts';
import { InvalidArgumentError, PerdureError } from './errors.ts';

/**
 * End-to-end encoding (encryption, usually) of chosen values, done by the client and worker
 * SDKs so that the server stores only what it is given.
 *
 * The machine runs on the server and reads event data in guards and `assign`, so not every value
 * can be encoded: the SDKs encode the *top-level fields you select* of a workflow input, of an
 * event (never its `type`) and of an activity's output, each into an **envelope**:
 *
 * ```json
 * { "$perdure.encoded": "aes-256-gcm", "key": "2025-06", "data": "AZ3k…" }
 * ```
 *
 * The machine may keep an envelope in its context and hand it on (to an activity, into its
 * output) but must not branch on it: to the server it is an opaque object. The SDKs decode
 * envelopes wherever they find them (deep) in what they receive: the worker in an activity's
 * input, the client in results, queries, descriptions and histories.
 *
 * ```
 *  client ─ encode(card) ─► server (stores the envelope; the machine passes it on) ─► worker ─ decode(card)
 *  client ◄─ decode(receipt) ─ server (stores the envelope) ◄─ encode(receipt) ─ worker
 * ```
 *
 * See docs/payloads.md.
 */

/** The key of an envelope that names the codec which made it. */
export const ENCODED_MARKER = '$perdure.encoded';

/**
 * A value encoded by a `PayloadCodec`, as the server stores it and the machine sees it: a plain
 * JSON object, opaque to everyone without the codec.
 */
export interface EncodedPayload {
  /** The `name` of the codec that made it; decoding needs a codec of that name. */
  readonly '$perdure.encoded': string;
  /** The codec's key id when it has keys (`codec.keyId` at encoding): which key an old value still needs. */
  readonly key?: string;
  /** base64 of `codec.encode(msgpack(value))`. */
  readonly data: string;
}

declare const plaintext: unique symbol;

/**
 * An envelope whose plaintext is a `T`: what a machine declares for a field the SDKs encode, so
 * that the machine cannot read into it by mistake (`context.card.number` does not compile) while
 * the typed client still takes and returns the plaintext (see `Decoded`).
 *
 * @example
 * interface OrderInput { orderId: string; amount: number; card: Encoded<Card> }
 */
export type Encoded<T> = EncodedPayload & { readonly [plaintext]?: T };

/**
 * `T` with every `Encoded<P>` in it replaced by `P`: what the SDKs hand you once they decoded it.
 * The typed client takes and returns `Decoded` inputs, events, outputs and contexts; type an
 * activity as `ActivityFunction<Decoded<In>, Decoded<Out>>`.
 *
 * @example
 * type Seen = Decoded<{ amount: number; card: Encoded<Card> }>; // { amount: number; card: Card }
 */
export type Decoded<T> =
  T extends Encoded<infer P> ? P
    : T extends ((...args: never[]) => unknown) | Date | Uint8Array ? T
      : T extends object ? { [K in keyof T]: Decoded<T[K]> }
        : T;

/**
 * Turns the bytes of one value into other bytes and back: encryption, compression, a call to a
 * key service. Its output is stored by the server and sent to every SDK, so `decode` must accept
 * everything `encode` ever made with a key it still has.
 *
 * @example
 * const gzipCodec: PayloadCodec = {
 *   name: 'gzip',
 *   encode: async (bytes) => gzipSync(bytes),
 *   decode: async (bytes) => gunzipSync(bytes),
 * };
 */
export interface PayloadCodec {
  /** Written into every envelope; an envelope is decoded only by a codec of the same name. */
  readonly name: string;
  /**
   * The key `encode` uses, for codecs with keys: written into each envelope as `key` and given
   * back to `decode`, so an operator can see which values an old key still protects. A codec
   * must not change it while in use (rotate by making a new codec).
   */
  readonly keyId?: string;
  encode(bytes: Uint8Array): Promise<Uint8Array>;
  /** `keyId` is the envelope's `key` (undefined when it has none). */
  decode(bytes: Uint8Array, keyId?: string): Promise<Uint8Array>;
}

/** Where a field to be encoded was found: what `encodeFields` as a function is asked about. */
export interface PayloadSite {
  kind: 'workflowInput' | 'event' | 'activityOutput' | 'heartbeatDetails';
  /** The workflow type (workflowInput), the event type (event), or the activity type. */
  type: string;
}

/**
 * Which top-level fields to encode: their names (in inputs, events and activity outputs alike),
 * or a function asked for each field.
 *
 * @example
 * encodeFields: ['card', 'receipt']
 * encodeFields: (field, site) => site.kind === 'event' ? field === 'card' : field === 'card' || field === 'receipt'
 */
export type FieldSelection = readonly string[] | ((field: string, site: PayloadSite) => boolean);

/**
 * The `payloadCodec` option of `Client.connect` and `Worker.create`. `encodeFields` has no
 * default: encoding every field would blind the machine (a guard reading an envelope is silently
 * false), encoding none would store in clear what you meant to protect. Pass `[]` for a process
 * that only decodes.
 */
export interface PayloadCodecOptions {
  codec: PayloadCodec;
  encodeFields: FieldSelection;
}

export type PayloadErrorCode = Extract<ErrorCode, 'PAYLOAD_DECODE_FAILED' | 'PAYLOAD_KEY_UNKNOWN' | 'PAYLOAD_CODEC_UNKNOWN' | 'PAYLOAD_ENCODE_FAILED'>;

/**
 * A value could not be encoded or decoded. `code` says why: `PAYLOAD_KEY_UNKNOWN` (the envelope
 * names a key this codec lacks), `PAYLOAD_CODEC_UNKNOWN` (it names another codec),
 * `PAYLOAD_DECODE_FAILED` (the data is corrupted or was not made with this key),
 * `PAYLOAD_ENCODE_FAILED` (the codec or the value refused encoding).
 *
 * @example
 * try { await handle.result() }
 * catch (e) { if (e instanceof PayloadCodecError && e.code === 'PAYLOAD_KEY_UNKNOWN') console.error(`add key ${e.keyId}`) }
 */
export class PayloadCodecError extends PerdureError {
  declare readonly code: PayloadErrorCode;
  constructor(code: PayloadErrorCode, message: string, readonly codec: string, readonly keyId?: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Whether `value` is an envelope: exactly the marker, `data` and an optional `key`, all strings.
 *
 * @example
 * if (isEncodedPayload(input.card)) throw ApplicationFailure.nonRetryable('the card is still encrypted: is payloadCodec set?');
 */
export function isEncodedPayload(value: unknown): value is EncodedPayload {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  const { [ENCODED_MARKER]: codec, data, key } = value as Record<string, unknown>;
  return typeof codec === 'string' && typeof data === 'string' && (key === undefined ? keys.length === 2 : typeof key === 'string' && keys.length === 3);
}

/**
 * Encodes one value into an envelope.
 *
 * @throws PayloadCodecError (PAYLOAD_ENCODE_FAILED) when the value cannot be msgpack-encoded or the codec throws.
 * @example
 * const envelope = await encodePayload({ number: '4242…' }, codec);
 */
export async function encodePayload<T>(value: T, codec: PayloadCodec): Promise<Encoded<T>> {
  let bytes: Uint8Array;
  try {
    bytes = await codec.encode(encode(value));
  } catch (cause) {
    if (cause instanceof PayloadCodecError) throw cause;
    throw new PayloadCodecError('PAYLOAD_ENCODE_FAILED', `codec "${codec.name}" could not encode a value: ${messageOf(cause)}`, codec.name, codec.keyId, { cause });
  }
  const envelope: Record<string, string> = { [ENCODED_MARKER]: codec.name };
  if (codec.keyId !== undefined) envelope.key = codec.keyId;
  envelope.data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return envelope as unknown as Encoded<T>;
}

/**
 * Decodes one envelope back into its value (envelopes inside it stay as they are).
 *
 * @throws PayloadCodecError: PAYLOAD_CODEC_UNKNOWN, PAYLOAD_KEY_UNKNOWN or PAYLOAD_DECODE_FAILED.
 * @example
 * const card = await decodePayload(context.card, codec);
 */
export async function decodePayload(envelope: EncodedPayload, codec: PayloadCodec): Promise<unknown> {
  const name = envelope[ENCODED_MARKER];
  if (name !== codec.name) {
    throw new PayloadCodecError('PAYLOAD_CODEC_UNKNOWN',
      `a value was encoded by codec "${name}", and this process has only codec "${codec.name}". Give it the codec "${name}" to read such values.`, name, envelope.key);
  }
  const data = Buffer.from(envelope.data, 'base64');
  // Node's base64 decoder skips what is not base64: check by re-encoding, so damage is caught here.
  if (data.toString('base64') !== envelope.data) throw decodeFailed(envelope, 'its data is not base64');
  let bytes: Uint8Array;
  try {
    bytes = await codec.decode(data, envelope.key);
  } catch (cause) {
    if (cause instanceof PayloadCodecError) throw cause;
    throw decodeFailed(envelope, messageOf(cause), cause);
  }
  try {
    return decode(bytes);
  } catch (cause) {
    throw decodeFailed(envelope, `it decoded to bytes that are not a value (${messageOf(cause)})`, cause);
  }
}

/**
 * A copy of `value` with the selected top-level fields encoded (`type` never is, so events keep
 * their type). Anything but a plain object, and fields already encoded, are left as they are.
 *
 * @example
 * await encodeFields({ type: 'PAY', card, amount }, { kind: 'event', type: 'PAY' }, { codec, encodeFields: ['card'] })
 * // → { type: 'PAY', card: { '$perdure.encoded': … }, amount }
 */
export async function encodeFields(value: unknown, site: PayloadSite, options: PayloadCodecOptions): Promise<unknown> {
  if (!isPlainObject(value) || isEncodedPayload(value)) return value;
  const select = options.encodeFields;
  const chosen = Object.keys(value).filter((field) =>
    field !== 'type' && value[field] !== undefined && !isEncodedPayload(value[field])
    && (typeof select === 'function' ? select(field, site) : select.includes(field)));
  if (chosen.length === 0) return value;
  const encoded = await Promise.all(chosen.map((field) => encodePayload(value[field], options.codec)));
  const copy: Record<string, unknown> = { ...value };
  chosen.forEach((field, i) => (copy[field] = encoded[i]));
  return copy;
}

/**
 * `value` with every envelope in it, at any depth, decoded (and envelopes found in decoded
 * values too). Returns `value` itself when it holds none; never changes it: parts that hold
 * envelopes are copied.
 *
 * @throws PayloadCodecError for the first envelope that cannot be decoded.
 * @example
 * const events = await decodePayloads(await (await fetch(historyUrl)).json(), codec);
 */
export async function decodePayloads<T>(value: T, codec: PayloadCodec): Promise<T> {
  const found = new Set<EncodedPayload>();
  collectEnvelopes(value, found);
  if (found.size === 0) return value;
  const decoded = new Map<EncodedPayload, unknown>();
  await Promise.all([...found].map(async (envelope) => {
    decoded.set(envelope, await decodePayloads(await decodePayload(envelope, codec), codec));
  }));
  return replaceEnvelopes(value, decoded) as T;
}

/**
 * Checks the `payloadCodec` option of an SDK (callers in plain JavaScript get no type check).
 *
 * @throws InvalidArgumentError naming what is wrong.
 */
export function checkPayloadCodecOptions(options: unknown, where: string): PayloadCodecOptions {
  const fail = (what: string) => new InvalidArgumentError(`${where}: payloadCodec${what}`);
  if (!isPlainObject(options)) throw fail(' must be { codec, encodeFields }');
  const { codec, encodeFields: select } = options as Partial<PayloadCodecOptions>;
  if (!codec || typeof codec.name !== 'string' || codec.name === '' || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw fail('.codec must have a non-empty name, encode(bytes) and decode(bytes)');
  }
  if (select === undefined) {
    throw fail('.encodeFields is required: name the fields to encode (["card"]), or pass [] to only decode. ' +
      'Encoding every field would hide from the machine what its guards read.');
  }
  if (typeof select !== 'function' && !(Array.isArray(select) && select.every((f) => typeof f === 'string'))) {
    throw fail('.encodeFields must be an array of field names or a function (field, site) => boolean');
  }
  if (Array.isArray(select) && select.includes('type')) throw fail('.encodeFields must not name "type": an event\'s type is never encoded');
  return { codec, encodeFields: select };
}

function collectEnvelopes(value: unknown, found: Set<EncodedPayload>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectEnvelopes(item, found);
  } else if (isPlainObject(value)) {
    if (isEncodedPayload(value)) found.add(value);
    else for (const item of Object.values(value)) collectEnvelopes(item, found);
  }
}

function replaceEnvelopes(value: unknown, decoded: Map<EncodedPayload, unknown>): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = replaceEnvelopes(item, decoded);
      if (next !== item) (copy ??= [...value])[i] = next;
    });
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  if (decoded.has(value as unknown as EncodedPayload)) return decoded.get(value as unknown as EncodedPayload);
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next = replaceEnvelopes(item, decoded);
    if (next !== item) (copy ??= { ...value })[key] = next;
  }
  return copy ?? value;
}

function decodeFailed(envelope: EncodedPayload, why: string, cause?: unknown): PayloadCodecError {
  const name = envelope[ENCODED_MARKER];
  const key = envelope.key === undefined ? '' : ` with key "${envelope.key}"`;
  return new PayloadCodecError('PAYLOAD_DECODE_FAILED', `a value encoded by codec "${name}"${key} could not be decoded: ${why}.`, name, envelope.key, { cause });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
