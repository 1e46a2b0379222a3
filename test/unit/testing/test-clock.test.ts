import { describe, expect, it } from 'vitest';
import { TestClock } from '../../../src/testing/index.ts';

const T0 = Date.UTC(2030, 0, 1);

describe('TestClock', () => {
  it('stands still until advanced, then fires due timers in order of due time, each at its own time', async () => {
    const clock = new TestClock({ startAt: T0 });
    const seen: [string, number][] = [];
    clock.setTimeout(() => seen.push(['b', clock.now()]), 2_000);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 1_000);
    clock.setTimeout(() => seen.push(['c', clock.now()]), 5_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(clock.now()).toBe(T0);
    expect(seen).toEqual([]);
    await clock.advance('3s');
    expect(seen).toEqual([['a', T0 + 1_000], ['b', T0 + 2_000]]);
    expect(clock.now()).toBe(T0 + 3_000);
    expect(clock.pending).toBe(1);
    expect(clock.nextDueAt()).toBe(T0 + 5_000);
  });

  it('keeps the order timers were set in for equal due times, and skips cleared ones', async () => {
    const clock = new TestClock({ startAt: T0 });
    const seen: string[] = [];
    clock.setTimeout(() => seen.push('first'), 100);
    const dropped = clock.setTimeout(() => seen.push('dropped'), 100);
    clock.setTimeout(() => seen.push('second'), 100);
    clock.clearTimeout(dropped);
    await clock.advanceTo(T0 + 100);
    expect(seen).toEqual(['first', 'second']);
  });

  it('fires a timer armed by a firing when it comes due within the same advance, after awaiting idle', async () => {
    const order: string[] = [];
    const clock = new TestClock({ startAt: T0, idle: async () => { order.push('idle'); await new Promise((r) => setImmediate(r)); } });
    clock.setTimeout(() => {
      order.push(`fire@${clock.now() - T0}`);
      clock.setTimeout(() => order.push(`follow-up@${clock.now() - T0}`), 500);
    }, 1_000);
    await clock.advance(2_000);
    expect(order.filter((o) => o !== 'idle')).toEqual(['fire@1000', 'follow-up@1500']);
    // idle is awaited before each firing and after the last one
    expect(order).toEqual(['idle', 'fire@1000', 'idle', 'follow-up@1500', 'idle', 'idle']);
  });

  it('fires timers due now (0 ms) on the next turn without moving time', async () => {
    const clock = new TestClock({ startAt: T0 });
    let at = 0;
    clock.setTimeout(() => (at = clock.now()), 0);
    expect(clock.hasDue()).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(at).toBe(T0);
    expect(clock.pending).toBe(0);
  });

  it('runUntilIdle skips from timer to timer until none is left, and stops at `until`', async () => {
    const clock = new TestClock({ startAt: T0 });
    let ticks = 0;
    const tick = () => {
      ticks++;
      if (ticks < 5) clock.setTimeout(tick, 60_000);
    };
    clock.setTimeout(tick, 60_000);
    expect(await clock.runUntilIdle({ until: T0 + 120_000 })).toBe(2);
    expect(await clock.runUntilIdle()).toBe(3);
    expect(clock.now()).toBe(T0 + 5 * 60_000);
  });

  it('gives up on a timer that re-arms forever, with a message that says what to do', async () => {
    const clock = new TestClock({ startAt: T0, maxFirings: 50 });
    const forever = () => void clock.setTimeout(forever, 1_000);
    forever();
    await expect(clock.runUntilIdle()).rejects.toThrow(/pass \{ until \}/);
  });

  it('never goes back in time', async () => {
    const clock = new TestClock({ startAt: new Date(T0) });
    await clock.advance('1h');
    await expect(clock.advanceTo(T0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(clock.advance('-1s' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
