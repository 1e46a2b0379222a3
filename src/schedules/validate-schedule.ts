import { Cron } from 'croner';
import type { z } from 'zod';
import type { Duration } from '../common/activity-options.ts';
import { toMs } from '../common/duration.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { scheduleArgs, type ScheduleOp } from '../common/schedule-schema.ts';
import {
  DEFAULT_CATCHUP_WINDOW, type ResolvedScheduleSpec, type ScheduleAction, type SchedulePolicies, type ScheduleRecord, type ScheduleSpec,
} from '../common/schedule-types.ts';
import { describeZodError } from '../common/wire.ts';

/** Shortest interval and catch-up window: finer than cron's one second buys nothing but load. */
const MIN_MS = 1_000;
/** Longest duration a schedule takes (100 years): far beyond use, and ISO times stay representable. */
const MAX_MS = 100 * 365 * 86_400_000;

/**
 * The arguments of a schedule operation, checked against its schema (INVALID_ARGUMENT naming
 * the field). The schedule service checks its callers' arguments itself, so an engine embedded
 * in a script gets the same errors as a client over the wire.
 */
export function parseScheduleArgs<Op extends ScheduleOp>(op: Op, args: unknown): z.infer<(typeof scheduleArgs)[Op]> {
  const parsed = (scheduleArgs[op] as z.ZodType).safeParse(args ?? {});
  if (!parsed.success) throw new InvalidArgumentError(`${op}: ${describeZodError(parsed.error)}`);
  return parsed.data as z.infer<(typeof scheduleArgs)[Op]>;
}

/**
 * A spec as the server keeps it, after checking what the schema cannot: every cron expression
 * parses and names a time after `now`, the time zone exists, the interval is at least 1 s and
 * its offset shorter than it.
 *
 * @example
 * resolveSpec({ cron: '61 * * * *' }, Date.now())
 * // INVALID_ARGUMENT: spec.cron: "61 * * * *" is not a valid cron expression (Invalid value for minute: 61) …
 */
export function resolveSpec(spec: ScheduleSpec, now: number): ResolvedScheduleSpec {
  if (spec.cron === undefined && spec.interval === undefined) {
    throw new InvalidArgumentError('spec: give `cron` (e.g. "0 9 * * MON-FRI") or `interval` (e.g. { every: "1h" }), or both.');
  }
  const timezone = spec.timezone ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidArgumentError(`spec.timezone: "${timezone}" is not an IANA time zone; use a name like "UTC", "Europe/Paris" or "America/New_York".`);
  }
  const resolved: ResolvedScheduleSpec = { timezone };
  if (spec.cron !== undefined) {
    const list = typeof spec.cron === 'string' ? [spec.cron] : spec.cron;
    list.forEach((expression, i) => checkCron(expression, list.length === 1 && typeof spec.cron === 'string' ? 'spec.cron' : `spec.cron[${i}]`, timezone, now));
    resolved.cron = [...list];
  }
  if (spec.interval !== undefined) {
    const every = checkDuration(spec.interval.every, 'spec.interval.every', MIN_MS);
    const offset = spec.interval.offset === undefined ? 0 : checkDuration(spec.interval.offset, 'spec.interval.offset', 0);
    if (offset >= every) {
      throw new InvalidArgumentError(`spec.interval.offset (${JSON.stringify(spec.interval.offset)}) must be shorter than spec.interval.every (${JSON.stringify(spec.interval.every)}).`);
    }
    resolved.interval = spec.interval.offset === undefined ? { every: spec.interval.every } : { every: spec.interval.every, offset: spec.interval.offset };
  }
  return resolved;
}

/** The action as kept: the prefix defaults to the schedule id; the input must be plain JSON data. */
export function resolveAction(action: ScheduleAction, scheduleId: string): ScheduleRecord['action'] {
  const resolved: ScheduleRecord['action'] = { workflowType: action.workflowType, workflowIdPrefix: action.workflowIdPrefix ?? scheduleId };
  if (action.input !== undefined) {
    try {
      resolved.input = JSON.parse(JSON.stringify(action.input)) as unknown;
    } catch (error) {
      throw new InvalidArgumentError(`action.input must be plain JSON data: ${(error as Error).message}`);
    }
  }
  return resolved;
}

/** The policies with their defaults: overlap 'skip', catch-up window 365 days. */
export function resolvePolicies(policies: SchedulePolicies = {}): ScheduleRecord['policies'] {
  const catchupWindow = policies.catchupWindow ?? DEFAULT_CATCHUP_WINDOW;
  checkDuration(catchupWindow, 'policies.catchupWindow', MIN_MS);
  return { overlap: policies.overlap ?? 'skip', catchupWindow };
}

function checkCron(expression: string, field: string, timezone: string, now: number): void {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true });
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).replace(/^CronPattern: /, '').replace(/\.$/, '');
    throw new InvalidArgumentError(
      `${field}: "${expression}" is not a valid cron expression (${reason}). ` +
        'Use 5 fields "minute hour day-of-month month day-of-week" (e.g. "0 9 * * MON-FRI"), 6 with seconds first, or @hourly/@daily/@weekly/@monthly.',
    );
  }
  if (cron.nextRun(new Date(now)) === null) {
    throw new InvalidArgumentError(`${field}: "${expression}" names no time after now (a date that does not exist, or one in the past), so the schedule would never act.`);
  }
}

function checkDuration(duration: Duration, field: string, min: number): number {
  const ms = toMs(duration, field);
  if (ms < min) throw new InvalidArgumentError(`${field} must be at least ${min / 1000} s, got ${JSON.stringify(duration)}.`);
  if (ms > MAX_MS) throw new InvalidArgumentError(`${field} must be at most 100 years, got ${JSON.stringify(duration)}.`);
  return ms;
}
