import { describe, expect, it } from 'vitest';
import { shareSlots } from '../../../src/worker/slot-shares.ts';

describe('shareSlots', () => {
  it('splits a worker\'s slots between its connections, adding up to the limit', () => {
    expect(shareSlots(10, 3)).toEqual([4, 3, 3]);
    expect(shareSlots(4, 2)).toEqual([2, 2]);
    expect(shareSlots(7, 1)).toEqual([7]);
    for (let total = 1; total <= 50; total++) {
      for (let n = 1; n <= total; n++) expect(shareSlots(total, n).reduce((a, b) => a + b, 0)).toBe(total);
    }
  });

  it('gives each connection one slot when there are fewer slots than nodes (a registration needs one)', () => {
    expect(shareSlots(2, 3)).toEqual([1, 1, 1]);
  });

  it('has nothing to split without a connection', () => {
    expect(shareSlots(5, 0)).toEqual([]);
  });
});
