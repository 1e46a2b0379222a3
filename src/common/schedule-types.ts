import type { Duration } from './activity-options.ts';

/**
 * The shapes of a schedule as they cross the wire: what a client sends to create or change one,
 * what the store keeps, and what `describe`, `list` and `trigger` answer. Declared once here so
 * the server, the client SDK and the CLI read the same fields. Times are ms since the epoch.
 *
 * @example
 * const options: ScheduleOptions = {
 *   scheduleId: 'nightly-report',
 *   spec: { cron: '0 2 * * *', timezone: 'Europe/Paris' },
 *   action: { workflowType: 'report', input: { kind: 'daily' } },
 *   policies: { overlap: 'skip', catchupWindow: '1h' },
 * };
 */

/**
 * What an action does when an earlier action's workflow is still open:
 * `skip` (default) takes no action; `bufferOne` starts it once the open one closes (one action
 * waits at most; more are skipped); `allowAll` starts it anyway.
 */
export const OVERLAP_POLICIES = ['skip', 'bufferOne', 'allowAll'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** How long after its nominal time an action missed during downtime is still taken. */
export const DEFAULT_CATCHUP_WINDOW: Duration = '365d';

/**
 * When a schedule acts: the union of every cron expression's times and the interval's times.
 * At least one of `cron` and `interval` is needed.
 */
export interface ScheduleSpec {
  /**
   * Cron expressions (5 fields, or 6/7 with seconds and years; `@daily` and friends), read in
   * `timezone`. E.g. `'0 9 * * MON-FRI'` — 09:00 on weekdays.
   */
  cron?: string | string[];
  /**
   * Every `every` (at least 1 s), counted from the Unix epoch plus `offset` (less than `every`):
   * `{ every: '1h', offset: '15m' }` acts at 00:15, 01:15, … UTC.
   */
  interval?: { every: Duration; offset?: Duration };
  /** IANA time zone the cron expressions are read in. Default 'UTC'. */
  timezone?: string;
}

/** The spec as the server keeps it: `cron` always a list, `timezone` always set. */
export interface ResolvedScheduleSpec {
  cron?: string[];
  interval?: { every: Duration; offset?: Duration };
  timezone: string;
}

/** What a schedule does at each of its times: start a workflow. */
export interface ScheduleAction<Input = unknown> {
  workflowType: string;
  input?: Input;
  /**
   * Each action's workflow id is `<prefix>-<nominal time, ISO 8601>`, e.g.
   * `nightly-report-2026-01-02T02:00:00.000Z`. Default: the schedule id.
   */
  workflowIdPrefix?: string;
}

export interface SchedulePolicies {
  /** Default 'skip'. */
  overlap?: OverlapPolicy;
  /**
   * After downtime, actions whose nominal time is at most this long ago are still taken (subject
   * to `overlap`); older ones are skipped and counted as missed. At least 1 s; default 365 days.
   */
  catchupWindow?: Duration;
}

/** What `create` takes. */
export interface ScheduleOptions<Input = unknown> {
  /** Unique within the namespace. */
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleAction<Input>;
  policies?: SchedulePolicies;
  /** Create the schedule paused. Default false. */
  paused?: boolean;
  /** Why it is paused (shown by describe). */
  note?: string;
}

/** What `update` takes: each part given replaces the schedule's part; the state is kept. */
export interface ScheduleUpdate<Input = unknown> {
  spec?: ScheduleSpec;
  action?: ScheduleAction<Input>;
  policies?: SchedulePolicies;
}

/** One action a schedule took: the workflow it started. */
export interface ScheduleActionResult {
  /** The time the spec named (or the time of the trigger). */
  nominalTime: number;
  /** When the workflow was started. */
  actualTime: number;
  workflowId: string;
  runId: string;
  /** Set when the action was a trigger ("run now"), not one of the spec's times. */
  triggered?: boolean;
}

/** Actions by outcome since the schedule was created. */
export interface ScheduleCounts {
  /** Workflows started. */
  taken: number;
  /** Not taken because an earlier action's workflow was open (overlap policy). */
  skipped: number;
  /** Not taken because their time was older than the catch-up window when the server got to them. */
  missed: number;
  /** Not taken because the start was refused (an unregistered workflow type, a taken workflow id). */
  failed: number;
}

/** Why the last failed action failed. */
export interface ScheduleFailure {
  nominalTime: number;
  at: number;
  code: string;
  message: string;
}

export interface ScheduleState {
  paused: boolean;
  note?: string;
  /** The nominal time of the next action of the spec not yet handled; absent when the spec has no more times. */
  nextActionAt?: number;
  /** bufferOne: the nominal time of the action waiting for the open workflow to close. */
  bufferedAt?: number;
  /** The latest actions taken, oldest first (at most 10). */
  recentActions: ScheduleActionResult[];
  counts: ScheduleCounts;
  lastFailure?: ScheduleFailure;
}

/** Everything the server keeps of a schedule, written as one record (one atomic write per change). */
export interface ScheduleRecord {
  namespace: string;
  scheduleId: string;
  spec: ResolvedScheduleSpec;
  action: { workflowType: string; input?: unknown; workflowIdPrefix: string };
  policies: { overlap: OverlapPolicy; catchupWindow: Duration };
  state: ScheduleState;
  createdAt: number;
  updatedAt: number;
}

/** What `describe` answers: the record, and the next few times the spec names. */
export interface ScheduleDescription extends ScheduleRecord {
  /** Up to 5 upcoming nominal times, from `state.nextActionAt` on. */
  futureActionTimes: number[];
}

/** A schedule in a listing. */
export interface ScheduleSummary {
  scheduleId: string;
  workflowType: string;
  spec: ResolvedScheduleSpec;
  paused: boolean;
  note?: string;
  nextActionAt?: number;
  lastAction?: ScheduleActionResult;
  counts: ScheduleCounts;
}

/** A page of `list`; pass `nextPageToken` back for the next one. */
export interface SchedulePage {
  schedules: ScheduleSummary[];
  nextPageToken?: string;
}

/** What `trigger` did: started a workflow, skipped (overlap), or buffered it (bufferOne). */
export type TriggerResult =
  | { outcome: 'started'; workflowId: string; runId: string }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'buffered'; nominalTime: number };
