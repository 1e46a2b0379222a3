import { randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CodecError, MAX_DEPTH, decode, encode, isNativeAccelerationEnabled } from '../../../src/common/codec.ts';

describe('codec', () => {
  it('round-trips the data model', () => {
    const value = {
      s: 'naïve ✓ 🎉', n: 42, f: -1.5, big: Number.MAX_SAFE_INTEGER, t: true, z: null,
      list: [1, 'two', { three: [3] }], empty: {}, bytes: Buffer.from([1, 2, 3]), when: new Date(1_700_000_000_000),
    };
    expect(decode(encode(value))).toEqual(value);
  });

  it('refuses 5,000-deep nested arrays with a clear error instead of crashing', () => {
    const bytes = Buffer.concat([Buffer.alloc(5000, 0x91), Buffer.from([0xc0])]); // [[[…[nil]…]]]
    expect(() => decode(bytes)).toThrow(CodecError);
    expect(() => decode(bytes)).toThrow(/nested more than \d+ levels deep/);
    try {
      decode(bytes);
    } catch (e) {
      expect(e).toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    // the codec still works afterwards (msgpackr's module state was reset)
    expect(decode(encode({ ok: [1] }))).toEqual({ ok: [1] });
  });

  it('accepts nesting up to MAX_DEPTH and refuses one level more', () => {
    const nest = (depth: number) => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
    expect(() => decode(nest(MAX_DEPTH))).not.toThrow();
    expect(() => decode(nest(MAX_DEPTH + 1))).toThrow(CodecError);
  });

  it('refuses the extensions msgpackr decodes on its own (Error, RegExp, Set, BigInt)', () => {
    const unsafe = new Packr({ moreTypes: true, useBigIntExtension: true, structuredClone: true });
    for (const value of [new Error('x'), /x+/g, new Set([1]), { deep: [new Set(['x'])] }, 2n ** 70n]) {
      expect(() => decode(unsafe.pack(value))).toThrow(CodecError);
    }
  });

  it('decodes 64-bit integers as strings, never BigInt', () => {
    const bytes = Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(decode(bytes)).toBe('18446744073709551615');
  });

  it('refuses truncated and trailing bytes', () => {
    const bytes = encode({ a: 'hello' });
    expect(() => decode(bytes.subarray(0, bytes.length - 2))).toThrow(CodecError);
    expect(() => decode(Buffer.concat([bytes, Buffer.from([0x01])]))).toThrow(CodecError);
  });

  it('never throws anything but CodecError on random bytes', () => {
    for (let i = 0; i < 5000; i++) {
      const bytes = randomBytes(1 + (i % 64));
      try {
        decode(bytes);
      } catch (e) {
        if (!(e instanceof CodecError)) throw new Error(`decode(${bytes.toString('hex')}) threw ${String(e)}`);
      }
    }
  });

  it('refuses a "__proto__" map key instead of handing it on renamed', () => {
    const bytes = encode(JSON.parse('{"type":"X","nested":[{"__proto__":{"admin":true}}]}'));
    expect(() => decode(bytes)).toThrow(CodecError);
    expect(() => decode(bytes)).toThrow(/map key "__proto__" is not allowed/);
  });

  it('keeps "__proto__" as a string value, and keys that only look like it', () => {
    const value = { note: '__proto__', __proto_: 1, x__proto__: 2 };
    expect(decode(encode(value))).toEqual(value);
  });

  it('reports whether the native extension loaded', () => {
    expect(typeof isNativeAccelerationEnabled()).toBe('boolean');
  });
});
