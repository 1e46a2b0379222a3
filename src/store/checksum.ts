import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of a byte string. It guards each stored history
 * event and run record against bit rot and torn writes: a mismatch is reported as
 * HistoryCorruptedError for that one run, never silently replayed. Node's own `zlib.crc32` (from
 * Node 20.15; native, a fifth of the time of the table below on a run record) is used where it
 * exists; Perdure supports every Node 20, so the table stays for the older ones.
 *
 * @example
 * crc32(Buffer.from('123456789')) // 0xcbf43926
 */
export const crc32: (bytes: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (bytes) => (zlib as unknown as { crc32(data: Uint8Array): number }).crc32(bytes) : tableCrc32;

/** The same checksum computed in JavaScript, one table lookup per byte. */
export function tableCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Bytes of the checksum prefix of a sealed value. */
const CHECKSUM_BYTES = 4;

/**
 * Prefixes `payload` with its CRC-32 (big-endian), as stored under a `hist/` key. With
 * `headerBytes`, the result starts with that many bytes left for the caller (a run record's tag):
 * one copy of the payload, not two.
 *
 * @example
 * const stored = seal(encode(event))
 */
export function seal(payload: Uint8Array, headerBytes = 0): Buffer {
  const out = Buffer.allocUnsafe(headerBytes + CHECKSUM_BYTES + payload.length);
  out.writeUInt32BE(crc32(payload), headerBytes);
  out.set(payload, headerBytes + CHECKSUM_BYTES);
  return out;
}

/**
 * The payload of a sealed value, or `undefined` when it is too short or its checksum does
 * not match (the caller knows which record it was and reports it).
 *
 * @example
 * const payload = unseal(stored); if (!payload) throw new HistoryCorruptedError(runId, seq)
 */
export function unseal(stored: Uint8Array): Uint8Array | undefined {
  if (stored.length < CHECKSUM_BYTES) return undefined;
  const view = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const payload = view.subarray(CHECKSUM_BYTES);
  return view.readUInt32BE(0) === crc32(payload) ? payload : undefined;
}
