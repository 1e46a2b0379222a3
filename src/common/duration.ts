import { InvalidArgumentError } from './errors.ts';
import type { Duration } from './activity-options.ts';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Milliseconds of a Duration: a number of ms, or a string like '250ms', '30s', '5m', '2h', '7d'.
 *
 * @example toMs('1.5s') === 1500
 */
export function toMs(duration: Duration, field = 'duration'): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) throw new InvalidArgumentError(`${field} must be a non-negative number of ms, got ${duration}`);
    return duration;
  }
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(String(duration));
  if (!match) throw new InvalidArgumentError(`${field} must be a number of ms or a string like '30s', got ${JSON.stringify(duration)}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export function optionalMs(duration: Duration | undefined, field: string): number | undefined {
  return duration === undefined ? undefined : toMs(duration, field);
}
