import { describe, expect, it } from 'vitest';
import { RunCorruptedError } from '../../../src/common/errors.ts';
import { encode } from '../../../src/common/codec.ts';
import type { RunRecord } from '../../../src/common/run-model.ts';
import { decodeRunRecord, encodeRunRecord } from '../../../src/store/run-record.ts';

const run = {
  runId: 'r-1', workflowId: 'order-1', namespace: 'default', type: 'order', version: 'v1', status: 'running',
  startedAt: 1_700_000_000_000, lastSeq: 2, snapshot: '{"value":"one"}', activities: {}, timers: {},
} as unknown as RunRecord;

describe('the stored run record', () => {
  it('reads back what was written: a tag byte, then the record sealed with its CRC-32', () => {
    const stored = encodeRunRecord(run);
    expect(stored[0]).toBe(0xc1);
    expect(decodeRunRecord(stored, run.runId)).toEqual(run);
  });

  it('refuses a record with a flipped byte, naming the run', () => {
    const stored = encodeRunRecord(run);
    stored[stored.length - 3]! ^= 0x10;
    expect(() => decodeRunRecord(stored, run.runId)).toThrow(RunCorruptedError);
    expect(() => decodeRunRecord(stored, run.runId)).toThrow(/r-1/);
  });

  it('still reads a record written before checksums (plain msgpack)', () => {
    expect(decodeRunRecord(encode(run), run.runId)).toEqual(run);
  });
});
