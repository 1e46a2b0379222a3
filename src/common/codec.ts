import { Packr, isNativeAccelerationEnabled as nativeLoaded } from 'msgpackr';
import { InvalidArgumentError } from './errors.ts';

/**
 * The one msgpack codec of Perdure: wire frames and stored values both go through it, so a
 * value that can be stored can be sent and the other way round.
 *
 * Options are chosen for input that may come from anyone (a worker, a client, a damaged disk):
 * - `useRecords: false` — no shared record structures: every message stands alone.
 * - `structuredClone: false` — the id/pointer extensions (cycles) are refused by msgpackr.
 * - `int64AsType: 'string'` — 64-bit ints decode to strings, not BigInt (JSON.stringify throws
 *   on BigInt, which would turn a stray int64 into a crash far from here).
 * - `mapsAsObjects: true` — maps decode to plain objects. msgpackr renames a `__proto__` key to
 *   `__proto_` (so that it cannot set a prototype); `decode` refuses such a key rather than hand
 *   on data that was silently changed.
 * - no `moreTypes`.
 *
 * msgpackr still decodes some built-in extensions whatever the options (Error, RegExp, Set,
 * typed arrays, BigInt): `decode` walks the result and refuses them, so callers only ever see
 * the data model below. msgpackr also has no depth limit (a 5 KB message of ~4,000 nested arrays
 * overflows the stack), so every decode is wrapped and nesting is capped at `MAX_DEPTH`.
 *
 * Data model: `null`, `undefined`, booleans, numbers, strings, `Uint8Array` (msgpack bin),
 * `Date` (msgpack timestamp), arrays and plain objects.
 */
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  int64AsType: 'string',
  mapsAsObjects: true,
  moreTypes: false,
});

/**
 * The same options but maps decoded as `Map`s, whose keys msgpackr leaves as they are: used only
 * to check a message that holds the bytes `__proto__` (see `refuseProtoKeys`).
 */
const mapPackr = new Packr({
  useRecords: false,
  structuredClone: false,
  int64AsType: 'string',
  mapsAsObjects: false,
  moreTypes: false,
});

const PROTO = Buffer.from('__proto__');

/**
 * Deepest nesting `decode` accepts. Far beyond any real payload, and low enough that code which
 * later walks a decoded value recursively (JSON.stringify, XState) does not overflow the stack.
 */
export const MAX_DEPTH = 512;

/**
 * Thrown when bytes are not a valid Perdure msgpack value, or a value cannot be encoded.
 * It is an `InvalidArgumentError` (code `INVALID_ARGUMENT`): the input, not the process, is bad.
 *
 * @example
 * try { decode(frame) } catch (e) { if (e instanceof CodecError) peer.protocolError(e.message) }
 */
export class CodecError extends InvalidArgumentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

/**
 * Encodes a value of the data model as msgpack.
 *
 * @throws CodecError when the value cannot be encoded (for example nested too deeply).
 * @example
 * const bytes = encode({ type: 'APPROVE', by: 'ann' })
 */
export function encode(value: unknown): Buffer {
  try {
    return packr.pack(value);
  } catch (cause) {
    throw new CodecError(`cannot encode value as msgpack: ${describe(cause)}`, { cause });
  }
}

/**
 * Decodes one msgpack value. Never throws anything but `CodecError`, whatever the bytes.
 *
 * @throws CodecError for truncated or trailing bytes, refused extensions, or nesting deeper
 *   than `MAX_DEPTH`.
 * @example
 * const frame = decode(bytes) // unknown: validate its shape before use
 */
export function decode(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (cause) {
    if (cause instanceof RangeError && /call stack/i.test(cause.message)) {
      throw new CodecError(`cannot decode msgpack value: nested more than ${MAX_DEPTH} levels deep`, { cause });
    }
    throw new CodecError(`cannot decode msgpack value: ${describe(cause)}`, { cause });
  }
  checkDataModel(value);
  // Cheap first: only a message holding the bytes at all is decoded again to look at its keys.
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(PROTO)) refuseProtoKeys(bytes);
  return value;
}

/** Refuses a map key `__proto__`, which msgpackr would have renamed (issue 15, bug 3). */
function refuseProtoKeys(bytes: Uint8Array): void {
  // Depth is already known to be within MAX_DEPTH: checkDataModel walked the same value.
  const stack: unknown[] = [mapPackr.unpack(bytes)];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) for (const item of value) stack.push(item);
    else if (value instanceof Map) {
      for (const [key, item] of value) {
        if (key === '__proto__') {
          throw new CodecError('cannot decode msgpack value: a map key "__proto__" is not allowed (it cannot be kept as it is): rename the key');
        }
        stack.push(item);
      }
    }
  }
}

/**
 * Whether msgpackr loaded its native string extractor (`msgpackr-extract`). Without it msgpackr
 * falls back to pure JS: correct, but slower on string-heavy messages. npm 11 may skip the
 * optional install script, so `npm run check-native` reports this on a fresh clone.
 *
 * @example
 * if (!isNativeAccelerationEnabled()) console.warn('msgpackr runs without its native extension')
 */
export function isNativeAccelerationEnabled(): boolean {
  return nativeLoaded;
}

/** Iterative (not recursive) walk, so a deep value cannot overflow the stack here either. */
function checkDataModel(root: unknown): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || value === undefined) continue;
    switch (typeof value) {
      case 'boolean':
      case 'number':
      case 'string':
        continue;
      case 'object':
        break;
      default:
        throw new CodecError(`cannot decode msgpack value: a ${typeof value} is not allowed`);
    }
    if (value instanceof Uint8Array || value instanceof Date) continue;
    if (depth >= MAX_DEPTH) {
      throw new CodecError(`cannot decode msgpack value: nested more than ${MAX_DEPTH} levels deep`);
    }
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CodecError(`cannot decode msgpack value: a ${name} extension is not allowed`);
    }
    for (const item of Object.values(value)) stack.push({ value: item, depth: depth + 1 });
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
