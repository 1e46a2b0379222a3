/**
 * Time enters the engine only through a Clock, so tests can run timers on a simulated clock
 * (the pure part of the engine never reads time at all: it gets it in the event). The engine,
 * its durable timer service, the activity dispatcher (retry backoffs, the four activity
 * timeouts, the worker-lost grace) and `result()` timeouts all take their time from it.
 *
 * @example
 * import { TestClock } from 'perdure/testing';
 * const clock = new TestClock();
 * const engine = await Engine.start({ workflows, store: new LevelStore({ directory: dataDir }), clock });
 * await clock.advance('1d'); // timers due within the day fire now
 */
export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /** Calls `fn` once `ms` have passed on this clock. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /**
   * True when `now()` moves only as time passes on this clock's own timers, in order (a
   * TestClock): it is never stepped, so durable timer waits need no bound. Unset for the
   * system clock, whose wall time can be stepped apart from Node's timers.
   */
  readonly stepFree?: boolean;
}

export type TimerHandle = { unref?(): unknown } | number | undefined;

/** setTimeout cannot wait longer than 2^31-1 ms (~24.8 days); systemClock re-arms for longer waits. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A wait longer than one Node timer can take: a chain of timers, the current one in `timer`. */
class LongTimer {
  timer?: ReturnType<typeof setTimeout>;
  private unrefed = false;
  unref(): this {
    this.unrefed = true;
    this.timer?.unref();
    return this;
  }
  arm(fn: () => void, dueAt: number): void {
    const left = dueAt - Date.now();
    this.timer = left > MAX_TIMEOUT_MS ? setTimeout(() => this.arm(fn, dueAt), MAX_TIMEOUT_MS) : setTimeout(fn, Math.max(0, left));
    if (this.unrefed) this.timer.unref();
  }
}

/**
 * Real time. A wait longer than Node's limit (~24.8 days: an activity's schedule-to-close of a
 * month, a long `result()` timeout) is re-armed rather than clamped, so it never fires early.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    if (delay <= MAX_TIMEOUT_MS) return setTimeout(fn, delay);
    const long = new LongTimer();
    long.arm(fn, Date.now() + delay);
    return long;
  },
  clearTimeout: (handle) => {
    clearTimeout((handle instanceof LongTimer ? handle.timer : handle) as ReturnType<typeof setTimeout> | undefined);
  },
};
