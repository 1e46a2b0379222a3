import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/sdk-socket/backoff.ts';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs, each delay between half and all of its step', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0);
    const high = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 1);
    expect([1, 2, 3, 4, 5].map(() => low.next())).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([100, 200, 400, 800, 1_000]);
  });

  it('starts again from initialMs after reset()', () => {
    const backoff = new Backoff({ initialMs: 10, maxMs: 1_000 }, () => 1);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(10);
  });
});
