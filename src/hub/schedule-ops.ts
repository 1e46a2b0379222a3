import { InvalidArgumentError } from '../common/errors.ts';
import type { ScheduleOp } from '../common/schedule-schema.ts';
import { SCHEDULE_OPS } from '../common/schedule-schema.ts';
import type { CallArgs, ClientOp } from '../common/wire.ts';
import type { ScheduleOperations } from '../schedules/schedule-service.ts';

const OPS: ReadonlySet<string> = new Set(SCHEDULE_OPS);

/** True for the `…Schedule` client operations. */
export function isScheduleOp(op: ClientOp): op is ScheduleOp & ClientOp {
  return OPS.has(op);
}

/**
 * The schedule operations of `ClientOps`, for both transports. Arguments were validated against
 * their schema by the caller; answers are what the HTTP API returns as JSON.
 */
export async function runScheduleOp(schedules: ScheduleOperations | undefined, namespace: string, op: ScheduleOp & ClientOp, args: unknown): Promise<unknown> {
  if (!schedules) throw new InvalidArgumentError(`${op}: this server runs no schedule service`);
  switch (op) {
    case 'createSchedule':
      return schedules.create({ ...(args as CallArgs<'createSchedule'>), namespace });
    case 'describeSchedule':
      return schedules.describe({ namespace, scheduleId: (args as CallArgs<'describeSchedule'>).scheduleId });
    case 'listSchedules':
      return schedules.list({ ...(args as CallArgs<'listSchedules'>), namespace });
    case 'updateSchedule': {
      const { scheduleId, ...update } = args as CallArgs<'updateSchedule'>;
      return schedules.update({ namespace, scheduleId }, update);
    }
    case 'pauseSchedule': {
      const { scheduleId, note } = args as CallArgs<'pauseSchedule'>;
      return schedules.pause({ namespace, scheduleId }, note);
    }
    case 'unpauseSchedule': {
      const { scheduleId, note } = args as CallArgs<'unpauseSchedule'>;
      return schedules.unpause({ namespace, scheduleId }, note);
    }
    case 'triggerSchedule': {
      const { scheduleId, overlap } = args as CallArgs<'triggerSchedule'>;
      return schedules.trigger({ namespace, scheduleId }, { overlap });
    }
    case 'deleteSchedule': {
      const { scheduleId } = args as CallArgs<'deleteSchedule'>;
      await schedules.delete({ namespace, scheduleId });
      return { deleted: true };
    }
  }
}
