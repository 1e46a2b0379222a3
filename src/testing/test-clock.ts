import type { Duration } from '../common/activity-options.ts';
import { toMs } from '../common/duration.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import type { Clock, TimerHandle } from '../common/clock.ts';

export interface TestClockOptions {
  /** Virtual time at the start, in ms since the epoch (or a Date). Default: the real time now. */
  startAt?: number | Date;
  /**
   * Resolves once whatever the last firing started is done (the engine committed, armed its
   * next timers, and its activities reported). Awaited before every firing. Default: one
   * event-loop turn. `createTestEngine` passes one that watches the engine's store.
   */
  idle?: () => Promise<void>;
  /** runUntilIdle() gives up after this many firings (a machine that loops on a timer). Default 10,000. */
  maxFirings?: number;
}

interface Entry {
  id: number;
  dueAt: number;
  fn: () => void;
}

/**
 * A Clock on virtual time, for tests: `now()` stands still until the test moves it, and timers
 * fire only when time is moved past them — a one-day timer fires at once, and the engine records
 * exactly the time it was due. Timers due at the current time (a 0 ms delay) fire on the next
 * event-loop turn, as they would on the system clock.
 *
 * Invariant: timers fire in order of due time (ties in the order they were set), and before each
 * firing the clock awaits `idle`, so what one timer's firing commits — including new timers it
 * arms — happens before the next timer fires.
 *
 * @example
 * const clock = new TestClock({ startAt: Date.UTC(2030, 0, 1) });
 * const engine = await Engine.start({ workflows, store: new LevelStore({ directory: dataDir }), clock });
 * await engine.start('approval', { workflowId: 'a1', input });
 * await clock.advance('1d'); // the approval's one-day timer fires now, at startAt + 1 day
 */
export class TestClock implements Clock {
  /** Virtual time moves only by advancing it, firing timers in order: never stepped (see Clock). */
  readonly stepFree = true;
  private current: number;
  /** Sorted by due time, then by id (the order timers were set). */
  private readonly queue: Entry[] = [];
  private nextId = 1;
  private flushScheduled = false;
  /** advance/advanceTo/runUntilIdle run one at a time: concurrent callers would interleave firings. */
  private serial: Promise<unknown> = Promise.resolve();
  private readonly idle: () => Promise<void>;
  private readonly maxFirings: number;

  constructor(options: TestClockOptions = {}) {
    const start = options.startAt instanceof Date ? options.startAt.getTime() : options.startAt ?? Date.now();
    if (!Number.isFinite(start)) throw new InvalidArgumentError(`TestClock startAt must be a time, got ${String(options.startAt)}`);
    this.current = start;
    this.idle = options.idle ?? nextTurn;
    this.maxFirings = options.maxFirings ?? 10_000;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const entry: Entry = { id: this.nextId++, dueAt: this.current + delay, fn };
    // Binary search for the first entry due later: equal due times keep the order they were set.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.queue[mid]!.dueAt <= entry.dueAt) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, entry);
    if (delay === 0) this.scheduleFlush();
    return entry.id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle !== 'number') return;
    const index = this.queue.findIndex((e) => e.id === handle);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.queue.length;
  }

  /** When the earliest pending timer is due, or undefined when none is set. */
  nextDueAt(): number | undefined {
    return this.queue[0]?.dueAt;
  }

  /** True while a timer is due at the current time and has not fired yet. */
  hasDue(): boolean {
    return this.queue.length > 0 && this.queue[0]!.dueAt <= this.current;
  }

  /**
   * Moves time forward by `duration`, firing every timer that comes due on the way, in order,
   * each at its own due time; resolves once the last firing's work is done.
   *
   * @example
   * await clock.advance('12h'); // the reminder fires, recorded at start + 12 h
   */
  advance(duration: Duration): Promise<void> {
    return this.exclusive(() => this.moveTo(this.current + toMs(duration, 'advance duration')));
  }

  /**
   * Moves time forward to `time` (ms since the epoch, or a Date), firing the timers due by then.
   * Time never goes back: an earlier time is an error.
   *
   * @example
   * await clock.advanceTo(startedAt + 86_400_000);
   */
  advanceTo(time: number | Date): Promise<void> {
    const target = time instanceof Date ? time.getTime() : time;
    return this.exclusive(() => this.moveTo(target));
  }

  /**
   * Skips from timer to timer — each time the engine has nothing else to do — until no timer is
   * left, or `until` (a time) is reached. Resolves with the number of timers fired.
   *
   * @example
   * await engine.start('flaky', { input }); // retries back off 50 ms, 100 ms, …
   * await clock.runUntilIdle();
   */
  runUntilIdle(options: { until?: number | Date } = {}): Promise<number> {
    const until = options.until instanceof Date ? options.until.getTime() : options.until ?? Infinity;
    return this.exclusive(async () => {
      let fired = 0;
      for (;;) {
        await this.idle();
        const next = this.queue[0];
        if (!next || next.dueAt > until) break;
        if (++fired > this.maxFirings) {
          throw new InvalidArgumentError(
            `runUntilIdle fired ${this.maxFirings} timers and more keep coming (a machine that loops on a timer?): ` +
              'pass { until } to stop at a time, or advance() by a duration instead.',
          );
        }
        this.fireNext();
      }
      await this.idle();
      return fired;
    });
  }

  /**
   * Once the engine is idle, fires the earliest pending timer (moving time to its due time).
   * Resolves false when no timer is set, or when `unless()` turns true while waiting for the
   * engine. What auto-skipping is made of.
   */
  skipToNextTimer(unless: () => boolean = () => false): Promise<boolean> {
    return this.exclusive(async () => {
      await this.idle();
      if (this.queue.length === 0 || unless()) return false;
      this.fireNext();
      await this.idle();
      return true;
    });
  }

  private async moveTo(target: number): Promise<void> {
    if (!Number.isFinite(target)) throw new InvalidArgumentError(`cannot advance the clock to ${target}`);
    if (target < this.current) {
      throw new InvalidArgumentError(`time only moves forward: the clock is at ${new Date(this.current).toISOString()}, asked for ${new Date(target).toISOString()}`);
    }
    for (;;) {
      await this.idle();
      const next = this.queue[0];
      if (!next || next.dueAt > target) break;
      this.fireNext();
    }
    this.current = target;
    await this.idle();
  }

  /** Fires the earliest timer, at its due time (or now, if it was due already). */
  private fireNext(): void {
    const entry = this.queue.shift()!;
    if (entry.dueAt > this.current) this.current = entry.dueAt;
    entry.fn();
  }

  /** Timers due now fire on the next turn, like a 0 ms setTimeout, without moving time. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      while (this.hasDue()) this.fireNext();
    });
  }

  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.serial.then(job);
    this.serial = run.catch(() => {});
    return run;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
