import { describe, expect, it } from 'vitest';
import { TailCache } from '../../../src/store/tail-cache.ts';

describe('TailCache', () => {
  it('holds at most its capacity, letting the least recently set entry go first', () => {
    const cache = new TailCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 3); // a is now the most recent
    cache.set('c', 4);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(3);
    expect(cache.get('c')).toBe(4);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new TailCache(0)).toThrow(RangeError);
    expect(() => new TailCache(1.5)).toThrow(/positive integer/);
  });
});
