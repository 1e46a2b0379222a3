import { InvalidArgumentError } from '../common/errors.ts';
import type { ScheduleOptions, SchedulePage } from '../common/schedule-types.ts';
import { ScheduleHandle } from './schedule-handle.ts';
import type { InputOf } from './types.ts';
import type { HandleTransport } from './workflow-handle.ts';

/**
 * Schedules of the client's namespace: `client.schedules`.
 *
 * @example
 * import type { timerWorkflow } from './machines/timer.ts';
 * const handle = await client.schedules.create<typeof timerWorkflow>({
 *   scheduleId: 'heartbeat',
 *   spec: { interval: { every: '5m' } },
 *   action: { workflowType: 'timer', input: { ms: 1000 } },
 *   policies: { overlap: 'skip', catchupWindow: '1h' },
 * });
 * const { state } = await handle.describe(); // state.nextActionAt, state.recentActions, state.counts
 */
export class ScheduleClient {
  /** @internal `client.schedules` is made by the client. */
  constructor(private readonly transport: HandleTransport, readonly namespace: string) {}

  /**
   * Creates a schedule and resolves with its handle. Rejects with `ScheduleAlreadyExistsError`
   * for a taken id, `InvalidArgumentError` naming a bad cron expression, time zone, interval or
   * policy, and `WorkflowTypeNotFoundError` for an unregistered workflow type.
   */
  async create<W = unknown>(options: ScheduleOptions<InputOf<W>>): Promise<ScheduleHandle> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('schedules.create({ scheduleId, spec, action, policies? })');
    const { scheduleId, spec, action, policies, paused, note } = options;
    await this.transport.call('createSchedule', { scheduleId, spec, action, policies, paused, note }, { namespace: this.namespace, scheduleId });
    return new ScheduleHandle(this.transport, this.namespace, scheduleId);
  }

  /** A handle on an existing schedule (no request is made until you use it). */
  getHandle(scheduleId: string): ScheduleHandle {
    if (typeof scheduleId !== 'string' || scheduleId === '') throw new InvalidArgumentError('scheduleId: expected a non-empty string');
    return new ScheduleHandle(this.transport, this.namespace, scheduleId);
  }

  /** One page of the namespace's schedules, by id; pass `nextPageToken` back for the next. */
  async list(options: { limit?: number; pageToken?: string } = {}): Promise<SchedulePage> {
    const page = (await this.transport.call('listSchedules', { limit: options.limit, pageToken: options.pageToken }, { namespace: this.namespace })) as SchedulePage;
    return page.nextPageToken === undefined || page.nextPageToken === null ? { schedules: page.schedules } : page;
  }
}
