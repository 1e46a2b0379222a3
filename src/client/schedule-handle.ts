import type { OverlapPolicy, ScheduleDescription, ScheduleUpdate, TriggerResult } from '../common/schedule-types.ts';
import type { ClientOp } from '../common/wire.ts';
import type { HandleTransport } from './workflow-handle.ts';

/**
 * One schedule, by id. No request is made until you use it; a schedule deleted meanwhile
 * answers `ScheduleNotFoundError` (code SCHEDULE_NOT_FOUND).
 *
 * @example
 * const handle = client.schedules.getHandle('nightly-report');
 * await handle.pause('database maintenance');
 * console.log((await handle.describe()).state.paused); // true
 * await handle.unpause();
 * await handle.trigger(); // run now, under the overlap policy
 */
export class ScheduleHandle {
  /** @internal Handles come from `client.schedules.create()` and `client.schedules.getHandle()`. */
  constructor(private readonly transport: HandleTransport, readonly namespace: string, readonly scheduleId: string) {}

  /** The schedule: spec, action, policies, state (paused, next action time, recent actions, counts) and its next times. */
  async describe(): Promise<ScheduleDescription> {
    return (await this.call('describeSchedule', {})) as ScheduleDescription;
  }

  /** Takes no action until unpaused; `note` says why (shown by describe). */
  async pause(note?: string): Promise<void> {
    await this.call('pauseSchedule', { note });
  }

  /** Goes on from the next time after now; times that passed while paused are not taken. */
  async unpause(note?: string): Promise<void> {
    await this.call('unpauseSchedule', { note });
  }

  /**
   * Takes an action now, under the schedule's overlap policy unless one is given (`allowAll`
   * starts whatever is open). Resolves with what happened: started (with the workflow id and
   * run id), skipped, or buffered.
   */
  async trigger(options: { overlap?: OverlapPolicy } = {}): Promise<TriggerResult> {
    return (await this.call('triggerSchedule', { overlap: options.overlap })) as TriggerResult;
  }

  /** Replaces the parts given (spec, action, policies); the state and counts are kept. */
  async update(update: ScheduleUpdate): Promise<ScheduleDescription> {
    return (await this.call('updateSchedule', { ...update })) as ScheduleDescription;
  }

  /** Deletes the schedule; the workflows it started go on. */
  async delete(): Promise<void> {
    await this.call('deleteSchedule', {});
  }

  private call(op: ClientOp, args: Record<string, unknown>): Promise<unknown> {
    return this.transport.call(op, { ...args, scheduleId: this.scheduleId }, { namespace: this.namespace, scheduleId: this.scheduleId });
  }
}
