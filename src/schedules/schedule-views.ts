import type { ScheduleDescription, ScheduleRecord, ScheduleSummary } from '../common/schedule-types.ts';
import type { ScheduleCalendar } from './schedule-calendar.ts';

/** How many upcoming times `describe` shows. */
const FUTURE_TIMES = 5;

/** What `describe` answers: the record and the next few times from `nextActionAt` on. */
export function describeSchedule(record: ScheduleRecord, calendar: ScheduleCalendar): ScheduleDescription {
  return { ...record, futureActionTimes: calendar.upcoming(record.state.nextActionAt, FUTURE_TIMES) };
}

/** A schedule as a listing shows it. */
export function summarizeSchedule(record: ScheduleRecord): ScheduleSummary {
  const { state } = record;
  const summary: ScheduleSummary = {
    scheduleId: record.scheduleId, workflowType: record.action.workflowType, spec: record.spec, paused: state.paused, counts: state.counts,
  };
  if (state.note !== undefined) summary.note = state.note;
  if (state.nextActionAt !== undefined) summary.nextActionAt = state.nextActionAt;
  const last = state.recentActions[state.recentActions.length - 1];
  if (last) summary.lastAction = last;
  return summary;
}
