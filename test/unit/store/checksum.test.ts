import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32, seal, tableCrc32, unseal } from '../../../src/store/checksum.ts';

describe('checksum', () => {
  it('is CRC-32 (IEEE): the check value of "123456789", both ways', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("Node's zlib.crc32 and the table agree on random bytes of every small length", () => {
    for (let length = 0; length < 300; length++) {
      const bytes = randomBytes(length);
      expect(crc32(bytes)).toBe(tableCrc32(bytes));
    }
  });

  it('agrees on a view into a larger buffer (a decoded frame is one)', () => {
    const whole = randomBytes(64);
    const view = whole.subarray(10, 40);
    expect(crc32(view)).toBe(tableCrc32(Buffer.from(view)));
  });

  it('unseal gives back the payload, and refuses a flipped byte or a short value', () => {
    const payload = randomBytes(100);
    const sealed = seal(payload);
    expect(Buffer.from(unseal(sealed)!)).toEqual(payload);
    sealed[50]! ^= 0x01;
    expect(unseal(sealed)).toBeUndefined();
    expect(unseal(new Uint8Array(3))).toBeUndefined();
  });
});
