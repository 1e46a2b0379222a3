import { decode, encode } from '../common/codec.ts';
import { RunCorruptedError } from '../common/errors.ts';
import { seal, unseal } from './checksum.ts';
import type { RunRecord } from '../common/run-model.ts';

/**
 * 0xc1 is the one byte msgpack never uses ("never used" in the spec), so a value starting with it
 * cannot be a plain msgpack run record: it tells a checksummed record from an older one.
 */
const SEALED = 0xc1;

/**
 * The stored form of a run record: the tag byte, then the record sealed with its CRC-32 (as
 * history events are), so a flipped byte is found instead of served as data (issue 15, bug 5).
 *
 * @example
 * const stored = encodeRunRecord(run); decodeRunRecord(stored, run.runId) // → run
 */
export function encodeRunRecord(run: RunRecord): Buffer {
  const out = seal(encode(run), 1);
  out[0] = SEALED;
  return out;
}

/**
 * Reads a stored run record. Records written before checksums (plain msgpack) are still read, so
 * an existing data directory keeps working: refusing them would break every open run on upgrade,
 * and each is rewritten sealed at its next commit. Their damage is found only when they do not
 * decode; a sealed record is checked byte for byte.
 *
 * @throws RunCorruptedError when the checksum does not match or the record does not decode.
 */
export function decodeRunRecord(stored: Uint8Array, runId: string): RunRecord {
  if (stored[0] !== SEALED) {
    try {
      return decode(stored) as RunRecord;
    } catch {
      throw new RunCorruptedError(runId);
    }
  }
  const payload = unseal(stored.subarray(1));
  if (!payload) throw new RunCorruptedError(runId);
  try {
    return decode(payload) as RunRecord;
  } catch {
    throw new RunCorruptedError(runId);
  }
}
