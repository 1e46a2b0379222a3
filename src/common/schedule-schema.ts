import { z } from 'zod';
import type { Duration } from './activity-options.ts';
import { OVERLAP_POLICIES } from './schedule-types.ts';

/**
 * The shapes of schedule requests, checked the same way on the WebSocket, over HTTP and by the
 * schedule service itself. Shape only: whether a cron expression parses, a time zone exists or
 * a workflow type is registered is the server's business (src/schedules/validate-schedule.ts),
 * so the client SDK, which loads this file through the wire protocol, needs no cron parser.
 * Objects are strict: a misspelt key (`crons`, `every` outside `interval`) is an error, not
 * silently ignored.
 */

/** A schedule id: also the default workflow id prefix, so it leaves room for the time suffix. */
export const scheduleId = z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

const DURATION_HINT = 'expected a duration like "30s", "5m", "1h", "7d", or a number of ms';
const duration = z.union([
  z.number().finite().nonnegative(),
  z.string().regex(/^\d+(?:\.\d+)?(?:ms|s|m|h|d)$/).transform((text) => text as Duration),
], { error: DURATION_HINT });

const cronExpression = z.string().min(1).max(200);

export const scheduleSpecSchema = z.strictObject({
  cron: z.union([cronExpression, z.array(cronExpression).min(1).max(50)]).optional(),
  interval: z.strictObject({ every: duration, offset: duration.optional() }).optional(),
  timezone: z.string().min(1).max(100).optional(),
});

export const scheduleActionSchema = z.strictObject({
  workflowType: z.string().min(1).max(1000),
  input: z.unknown().optional(),
  workflowIdPrefix: z.string().min(1).max(900).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters').optional(),
});

export const schedulePoliciesSchema = z.strictObject({
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  catchupWindow: duration.optional(),
});

const note = z.string().max(10_000);

/** Argument schemas of the schedule operations (the `…Schedule` client ops). */
export const scheduleArgs = {
  createSchedule: z.strictObject({
    scheduleId, spec: scheduleSpecSchema, action: scheduleActionSchema, policies: schedulePoliciesSchema.optional(),
    paused: z.boolean().optional(), note: note.optional(),
  }),
  describeSchedule: z.strictObject({ scheduleId }),
  listSchedules: z.strictObject({ pageToken: z.string().max(10_000).optional(), limit: z.number().int().min(1).max(1000).optional() }),
  updateSchedule: z.strictObject({
    scheduleId, spec: scheduleSpecSchema.optional(), action: scheduleActionSchema.optional(), policies: schedulePoliciesSchema.optional(),
  }),
  pauseSchedule: z.strictObject({ scheduleId, note: note.optional() }),
  unpauseSchedule: z.strictObject({ scheduleId, note: note.optional() }),
  triggerSchedule: z.strictObject({ scheduleId, overlap: z.enum(OVERLAP_POLICIES).optional() }),
  deleteSchedule: z.strictObject({ scheduleId }),
};

export type ScheduleOp = keyof typeof scheduleArgs;
export const SCHEDULE_OPS = Object.keys(scheduleArgs) as ScheduleOp[];
