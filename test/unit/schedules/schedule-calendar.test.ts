import { describe, expect, it } from 'vitest';
import { COUNT_CAP, ScheduleCalendar } from '../../../src/schedules/schedule-calendar.ts';

const at = (text: string) => Date.parse(text);

describe('ScheduleCalendar', () => {
  it('names interval times counted from the epoch plus the offset, strictly after the time asked', () => {
    const calendar = new ScheduleCalendar({ interval: { every: '1h', offset: '15m' }, timezone: 'UTC' });
    expect(calendar.nextAfter(at('2030-01-01T00:00:00Z'))).toBe(at('2030-01-01T00:15:00Z'));
    expect(calendar.nextAfter(at('2030-01-01T00:15:00Z'))).toBe(at('2030-01-01T01:15:00Z'));
    expect(calendar.upcoming(at('2030-01-01T00:15:00Z'), 3)).toEqual(['00:15', '01:15', '02:15'].map((t) => at(`2030-01-01T${t}:00Z`)));
  });

  it('reads cron expressions in the time zone, across a daylight saving change', () => {
    const paris = new ScheduleCalendar({ cron: ['0 9 * * *'], timezone: 'Europe/Paris' });
    expect(paris.nextAfter(at('2030-03-30T12:00:00Z'))).toBe(at('2030-03-31T07:00:00Z')); // summer time since 02:00
    expect(paris.nextAfter(at('2030-01-05T12:00:00Z'))).toBe(at('2030-01-06T08:00:00Z'));
  });

  it('takes the union of every cron expression and the interval', () => {
    const calendar = new ScheduleCalendar({ cron: ['30 * * * *', '45 * * * *'], interval: { every: '1h' }, timezone: 'UTC' });
    expect(calendar.upcoming(calendar.nextAfter(at('2030-01-01T00:00:00Z')), 4)).toEqual(
      ['00:30', '00:45', '01:00', '01:30'].map((t) => at(`2030-01-01T${t}:00Z`)),
    );
  });

  it('has no next time when the spec names none', () => {
    expect(new ScheduleCalendar({ cron: ['0 0 0 1 1 * 2031'], timezone: 'UTC' }).nextAfter(at('2032-01-01T00:00:00Z'))).toBeUndefined();
    expect(new ScheduleCalendar({ timezone: 'UTC' }).upcoming(undefined, 5)).toEqual([]);
  });

  it('counts the times in a window exactly for an interval, however many', () => {
    const calendar = new ScheduleCalendar({ interval: { every: '1s' }, timezone: 'UTC' });
    const from = at('2030-01-01T00:00:00Z');
    const year = 365 * 86_400_000;
    expect(calendar.countUntil(from, from + year)).toEqual({ count: 365 * 86_400, next: from + year, capped: false });
    expect(calendar.countUntil(from, from + 1500)).toEqual({ count: 2, next: from + 2000, capped: false });
    expect(calendar.countUntil(from, from)).toEqual({ count: 0, next: from, capped: false });
  });

  it('walks cron times to count them, and says when it stopped at the cap', () => {
    const minutely = new ScheduleCalendar({ cron: ['* * * * *'], timezone: 'UTC' });
    const from = at('2030-01-01T00:00:00Z');
    expect(minutely.countUntil(from, from + 90 * 60_000)).toEqual({ count: 90, next: from + 90 * 60_000, capped: false });
    const secondly = new ScheduleCalendar({ cron: ['* * * * * *'], timezone: 'UTC' });
    const result = secondly.countUntil(from, from + 2 * COUNT_CAP * 1000);
    expect(result).toEqual({ count: COUNT_CAP, next: from + 2 * COUNT_CAP * 1000, capped: true });
  });
});
