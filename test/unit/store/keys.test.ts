import { describe, expect, it } from 'vitest';
import { keys, prefixRange } from '../../../src/store/keys.ts';

describe('store keys', () => {
  it('keeps ids containing slashes from colliding', () => {
    expect(keys.exec('a', 'b/c')).not.toBe(keys.exec('a/b', 'c'));
    expect(keys.exec('a', 'b/c').split('/')).toHaveLength(3);
  });

  it('orders history by seq and timers by due time numerically', () => {
    expect(keys.hist('r', 9) < keys.hist('r', 10)).toBe(true);
    const timer = (dueAt: number) => keys.timer({ dueAt, runId: 'r', kind: 'timer', id: 't' });
    expect(timer(999) < timer(1000)).toBe(true);
    expect(timer(1000) < keys.timerBound(1000)).toBe(true);
    expect(timer(1001) < keys.timerBound(1000)).toBe(false);
  });

  it('sorts listing keys newest first', () => {
    const vis = (startedAt: number) => keys.vis({ namespace: 'n', status: 'running', type: 't', startedAt, runId: 'r' });
    vis(2000).forEach((key, i) => expect(key < vis(1000)[i]!).toBe(true));
  });

  it('bounds a prefix range exactly', () => {
    const range = prefixRange(keys.histPrefix('r'));
    expect(keys.hist('r', 1) >= range.gte && keys.hist('r', 1) < range.lt).toBe(true);
    expect(keys.hist('r0', 1) < range.lt).toBe(false);
    expect(keys.hist('r-', 1) >= range.gte).toBe(false);
  });

  it('refuses negative and fractional numbers and lone surrogates', () => {
    expect(() => keys.hist('r', -1)).toThrow(/non-negative integer/);
    expect(() => keys.hist('r', 1.5)).toThrow(/non-negative integer/);
    expect(() => keys.exec('n', 'bad\ud800')).toThrow(/well-formed/);
  });
});
