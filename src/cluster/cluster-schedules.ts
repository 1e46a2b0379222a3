import { ShardNotHeldError } from '../common/errors.ts';
import { DEFAULT_NAMESPACE } from '../common/namespaces.ts';
import type {
  OverlapPolicy, ScheduleDescription, ScheduleOptions, SchedulePage, ScheduleUpdate, TriggerResult,
} from '../common/schedule-types.ts';
import type { ScheduleOperations, ScheduleRef, ScheduleService } from '../schedules/schedule-service.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { PeerCaller } from './node-peers.ts';
import { ShardRouter, type OwnerCall, type ShardRouterOptions } from './shard-router.ts';

/**
 * The schedules of the whole cluster, as one service: an operation on a schedule runs on this
 * node when it holds the schedule's shard (`shardOf(namespace, scheduleId)`), and is forwarded to
 * the node that holds it otherwise, as ClusterService does for executions. The local
 * ScheduleService refuses a schedule of a shard it does not hold (or has not loaded yet) with
 * SHARD_NOT_HELD, which sends the call on. Listings are read here, from the database.
 *
 * Retried on another node: SHARD_NOT_HELD and ENGINE_STOPPED (refused before anything was done),
 * and SHARD_OWNERSHIP_LOST, here or there (the record write was fenced, so nothing was
 * written: a shard being handed over, still counted as held until the hand-over is told) — except for a
 * trigger: its workflow may have started before the write was fenced, and a trigger retried
 * takes a second action at a new time. That error is relayed instead.
 *
 * @example
 * const schedules = new ClusterSchedules(localSchedules, store.shards(), peers);
 * await schedules.pause({ scheduleId: 'nightly' }); // wherever the schedule runs
 */
export class ClusterSchedules implements ScheduleOperations {
  private readonly router: ShardRouter;

  constructor(private readonly local: ScheduleService, private readonly ownership: ShardOwnership, peers: PeerCaller, options: ShardRouterOptions = {}) {
    this.router = new ShardRouter(ownership, peers, options);
  }

  create(options: ScheduleOptions & { namespace?: string }): Promise<ScheduleDescription> {
    const { namespace, ...rest } = options ?? ({} as ScheduleOptions);
    return this.route(namespace, rest.scheduleId, () => this.local.create(options), (call) => call('createSchedule', defined(rest)));
  }

  describe(ref: ScheduleRef): Promise<ScheduleDescription> {
    return this.route(ref?.namespace, ref?.scheduleId, () => this.local.describe(ref), (call) => call('describeSchedule', { scheduleId: ref.scheduleId }));
  }

  list(options?: { namespace?: string; limit?: number; pageToken?: string }): Promise<SchedulePage> {
    return this.local.list(options);
  }

  update(ref: ScheduleRef, update: ScheduleUpdate): Promise<ScheduleDescription> {
    return this.route(ref?.namespace, ref?.scheduleId, () => this.local.update(ref, update), (call) => call('updateSchedule', defined({ ...update, scheduleId: ref.scheduleId })));
  }

  pause(ref: ScheduleRef, note?: string): Promise<ScheduleDescription> {
    return this.route(ref?.namespace, ref?.scheduleId, () => this.local.pause(ref, note), (call) => call('pauseSchedule', defined({ scheduleId: ref.scheduleId, note })));
  }

  unpause(ref: ScheduleRef, note?: string): Promise<ScheduleDescription> {
    return this.route(ref?.namespace, ref?.scheduleId, () => this.local.unpause(ref, note), (call) => call('unpauseSchedule', defined({ scheduleId: ref.scheduleId, note })));
  }

  trigger(ref: ScheduleRef, options: { overlap?: OverlapPolicy } = {}): Promise<TriggerResult> {
    return this.route(ref?.namespace, ref?.scheduleId, () => this.local.trigger(ref, options), (call) => call('triggerSchedule', defined({ scheduleId: ref.scheduleId, overlap: options?.overlap })), { once: true });
  }

  async delete(ref: ScheduleRef): Promise<void> {
    await this.route(ref?.namespace, ref?.scheduleId, () => this.local.delete(ref), (call) => call('deleteSchedule', { scheduleId: ref.scheduleId }));
  }

  private route<T>(
    given: string | undefined, scheduleId: string, here: () => Promise<T>, there: (call: OwnerCall) => Promise<unknown>, options: { once?: boolean } = {},
  ): Promise<T> {
    const namespace = given ?? DEFAULT_NAMESPACE;
    const retryable = (error: unknown) => {
      const code = (error as { code?: unknown } | undefined)?.code;
      return code === 'SHARD_NOT_HELD' || code === 'ENGINE_STOPPED' || (code === 'SHARD_OWNERSHIP_LOST' && !options.once);
    };
    const hereOrOwner = async () => {
      try {
        return await here();
      } catch (error) {
        // This node still counted the shard as its own, but the fence refused the write: the
        // shard is being handed over (told lost a moment later). Nothing was written, so the
        // owner is asked, as for a shard not held.
        if ((error as { code?: unknown })?.code === 'SHARD_OWNERSHIP_LOST' && !options.once && typeof scheduleId === 'string') {
          throw new ShardNotHeldError(this.ownership.shardOf(namespace, scheduleId));
        }
        throw error;
      }
    };
    return this.router.route(namespace, hereOrOwner, async (call) => (await there(call)) as T, retryable);
  }
}

/** The fields that have a value: an absent optional field must not reach the wire as null. */
function defined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
