import type { Clock, TimerHandle } from '../../src/common/clock.ts';
import { TestClock } from '../../src/testing/index.ts';

/**
 * A clock whose wall time (`now()`) can be stepped apart from elapsed time, as a real host's can:
 * `Date.now()` jumps when NTP or an operator sets the clock, while Node's timers count elapsed
 * (monotonic) time. Elapsed time is a TestClock moved by `elapse()`; `step()` moves only `now()`.
 *
 * @example
 * const clock = new SteppedClock();
 * clock.step(-3_600_000);          // the wall clock goes back an hour
 * await clock.elapse(60_000);      // a minute passes: timers armed for it fire
 */
export class SteppedClock implements Clock {
  /** Elapsed time. Each firing waits a little real time, so the engine's store reads finish first. */
  readonly elapsed = new TestClock({ idle: () => new Promise((resolve) => setTimeout(resolve, 25)) });
  private offset = 0;

  now(): number {
    return this.elapsed.now() + this.offset;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.elapsed.setTimeout(fn, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.elapsed.clearTimeout(handle);
  }

  /** Sets the wall clock forward (positive) or back (negative) by `ms`, with no time elapsing. */
  step(ms: number): void {
    this.offset += ms;
  }

  /** Lets `ms` of time elapse, firing the timers armed for it in order. */
  elapse(ms: number): Promise<void> {
    return this.elapsed.advance(ms);
  }
}
