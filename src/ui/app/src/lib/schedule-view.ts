import type { ResolvedScheduleSpec, ScheduleCounts } from '../../../../common/schedule-types.ts';
import { formatDuration } from './formatters.ts';

type Duration = number | string;

/** A duration as the API holds it (ms or `'30s'`), in words: `30 s`, `1 h 0 min`, or the string as given. */
export function durationText(d: Duration): string {
  return typeof d === 'number' ? formatDuration(d) : d;
}

/**
 * When a schedule acts, in one line: `cron 0 9 * * MON (Europe/Paris)`, `every 1h (offset 15m)`,
 * both joined by "and". The time zone is said only when it is not UTC (it is read for cron only).
 */
export function specText(spec: ResolvedScheduleSpec): string {
  const parts: string[] = [];
  if (spec.cron?.length) parts.push(`cron ${spec.cron.join(' | ')}${spec.timezone && spec.timezone !== 'UTC' ? ` (${spec.timezone})` : ''}`);
  if (spec.interval) parts.push(`every ${durationText(spec.interval.every)}${spec.interval.offset ? ` (offset ${durationText(spec.interval.offset)})` : ''}`);
  return parts.join(' and ') || '—';
}

/** `3 taken · 1 skipped`, leaving out the outcomes that never happened (but always saying taken). */
export function countsText(counts: ScheduleCounts): string {
  const parts = [`${counts.taken} taken`];
  if (counts.skipped) parts.push(`${counts.skipped} skipped`);
  if (counts.missed) parts.push(`${counts.missed} missed`);
  if (counts.failed) parts.push(`${counts.failed} failed`);
  return parts.join(' · ');
}
