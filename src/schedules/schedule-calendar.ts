import { Cron } from 'croner';
import { toMs } from '../common/duration.ts';
import type { ResolvedScheduleSpec } from '../common/schedule-types.ts';

/**
 * Times `countUntil` walks one by one at most; beyond, it jumps and says the count is a lower
 * bound. A cron time costs croner 10–90 µs (time zones cost most), so this bounds the walk to
 * well under a second of blocked event loop.
 */
export const COUNT_CAP = 10_000;

/**
 * The times a spec names, as a pure function of time: no clock, no I/O. Built once per schedule
 * (parsing a cron expression is the costly part) and asked "what comes after t?".
 *
 * An interval's times are `offset + k × every` ms since the epoch (UTC, whatever the time zone),
 * so they do not drift with the server's start time and survive restarts unchanged. Cron
 * expressions are read in the spec's time zone; across a DST change croner runs a fixed-time
 * job (`30 2 * * *`) once, at the first valid time, and an interval-like one (`*\/15 * * * *`)
 * on the wall clock's times that exist.
 *
 * @example
 * const calendar = new ScheduleCalendar({ cron: ['0 9 * * MON-FRI'], timezone: 'Europe/Paris' });
 * calendar.nextAfter(Date.UTC(2026, 0, 2, 12)) // 2026-01-05T08:00:00.000Z (Monday 09:00 in Paris)
 */
export class ScheduleCalendar {
  private readonly crons: Cron[];
  private readonly interval?: { every: number; offset: number };

  /** The spec must be valid (see validate-schedule.ts): an invalid expression throws croner's error here. */
  constructor(spec: ResolvedScheduleSpec) {
    // UTC as an offset rather than a zone name: croner then skips Intl's zone lookups (4× faster).
    const zone = spec.timezone === 'UTC' ? { utcOffset: 0 } : { timezone: spec.timezone };
    this.crons = (spec.cron ?? []).map((expression) => new Cron(expression, { ...zone, paused: true }));
    if (spec.interval) {
      this.interval = { every: toMs(spec.interval.every, 'spec.interval.every'), offset: toMs(spec.interval.offset ?? 0, 'spec.interval.offset') };
    }
  }

  /** The first time strictly after `ms`, or undefined when the spec names no later time. */
  nextAfter(ms: number): number | undefined {
    let next: number | undefined;
    for (const cron of this.crons) {
      const at = cron.nextRun(new Date(ms))?.getTime();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    if (this.interval) {
      const { every, offset } = this.interval;
      const at = offset + every * (Math.floor((ms - offset) / every) + 1);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Up to `count` times from `from` on (inclusive). */
  upcoming(from: number | undefined, count: number): number[] {
    const times: number[] = [];
    for (let at = from; at !== undefined && times.length < count; at = this.nextAfter(at)) times.push(at);
    return times;
  }

  /**
   * How many times lie in `[from, until)` (with `from` one of the spec's times), and the first
   * time at or after `until`. Exact for a lone interval; otherwise the times are walked, at most
   * `COUNT_CAP` of them, beyond which the count is a lower bound (`capped`).
   */
  countUntil(from: number, until: number): { count: number; next: number | undefined; capped: boolean } {
    if (from >= until) return { count: 0, next: from, capped: false };
    const next = this.nextAfter(until - 1);
    if (this.interval && this.crons.length === 0) {
      const { every, offset } = this.interval;
      const index = (t: number) => Math.ceil((t - offset) / every); // of the first time at or after t
      return { count: index(until) - index(from), next, capped: false };
    }
    let count = 0;
    for (let at: number | undefined = from; at !== undefined && at < until; at = this.nextAfter(at)) {
      if (++count >= COUNT_CAP) return { count, next, capped: true };
    }
    return { count, next, capped: false };
  }
}
