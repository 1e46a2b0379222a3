import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_MS, systemClock } from '../../../src/common/clock.ts';

const DAY = 86_400_000;

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits longer than a Node timer can (a month) without firing early, by re-arming', () => {
    vi.useFakeTimers({ now: 0 });
    const fn = vi.fn();
    systemClock.setTimeout(fn, 30 * DAY);
    vi.advanceTimersByTime(MAX_TIMEOUT_MS + 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY - MAX_TIMEOUT_MS - 2);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('cancels a long wait after it re-armed, and a short one', () => {
    vi.useFakeTimers({ now: 0 });
    const long = vi.fn();
    const short = vi.fn();
    const handle = systemClock.setTimeout(long, 60 * DAY);
    systemClock.clearTimeout(systemClock.setTimeout(short, 10));
    vi.advanceTimersByTime(MAX_TIMEOUT_MS + 1);
    systemClock.clearTimeout(handle);
    vi.advanceTimersByTime(60 * DAY);
    expect(long).not.toHaveBeenCalled();
    expect(short).not.toHaveBeenCalled();
  });
});
