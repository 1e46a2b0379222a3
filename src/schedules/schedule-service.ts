import { toMs } from '../common/duration.ts';
import type { ErrorCode } from '../common/error-codes.ts';
import { EngineStoppedError, PerdureError, ScheduleAlreadyExistsError, ScheduleNotFoundError } from '../common/errors.ts';
import type {
  OverlapPolicy, ScheduleDescription, ScheduleOptions, SchedulePage, ScheduleRecord, ScheduleUpdate, TriggerResult,
} from '../common/schedule-types.ts';
import { systemClock, type Clock, type TimerHandle } from '../common/clock.ts';
import { validateId } from '../common/validate-id.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { ScheduleStore } from '../store/store.ts';
import { ActionTaker } from './action-taker.ts';
import { KeyedQueue } from '../common/keyed-queue.ts';
import { ScheduleCalendar } from './schedule-calendar.ts';
import { ScheduleShards } from './schedule-shards.ts';
import type { ScheduleEngine } from './schedule-engine.ts';
import type { ScheduleLogger, ScheduleRef, ScheduleServiceOptions } from './schedule-options.ts';
import {
  initialState, recordMissed, recordOutcome, recordPaused, recordSpecChanged, recordUnpaused, type ActionOutcome,
} from './schedule-state.ts';
import { describeSchedule, summarizeSchedule } from './schedule-views.ts';
import { parseScheduleArgs, resolveAction, resolvePolicies, resolveSpec } from './validate-schedule.ts';

export type { ScheduleLogger, ScheduleRef, ScheduleServiceOptions };

/** The operations on schedules a client may call (ClusterSchedules routes them in a cluster). */
export type ScheduleOperations = Pick<ScheduleService, 'create' | 'describe' | 'list' | 'update' | 'pause' | 'unpause' | 'trigger' | 'delete'>;

interface Entry {
  record: ScheduleRecord;
  calendar: ScheduleCalendar;
  timer?: TimerHandle;
  /** A processing pass is queued and has not begun: another wake adds nothing. */
  wakeQueued: boolean;
  /** bufferOne: the open workflow whose close wakes the schedule. */
  watching?: string;
  /** Delay before retrying after a transient failure; doubles up to RETRY_MAX_MS. */
  retryMs?: number;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 60_000;
/** Skipped and missed actions are written in batches of at most this many (they start nothing: redoing them is harmless). */
const SKIP_BATCH = 1_000;

/**
 * Durable schedules: start a workflow on cron expressions or an interval, with an overlap
 * policy and catch-up after downtime. Every schedule is one record in the store; one process
 * timer per schedule waits for its next action time.
 *
 * Each schedule's work — a due action, a create, pause, trigger — runs one at a time, in order.
 * An action is decided, its workflow started (an id and idempotency key made from the nominal
 * time), then the outcome and the next action time are written in one record: a crash at any
 * instant neither loses an action nor takes one twice (see ActionTaker).
 *
 * @example
 * const schedules = await ScheduleService.start({ engine, store: engine.store, clock: engine.clock });
 * await schedules.create({ scheduleId: 'nightly', spec: { cron: '0 2 * * *' }, action: { workflowType: 'report' } });
 * await schedules.trigger({ scheduleId: 'nightly' }); // run now
 * await schedules.stop(); // before engine.stop()
 */
export class ScheduleService {
  private readonly entries = new Map<string, Entry>();
  /** Each schedule's work, one job at a time. */
  private readonly queue = new KeyedQueue();
  private readonly taker: ActionTaker;
  private readonly clock: Clock;
  /** The shards whose schedules run here; an operation on another shard's schedule is refused (SHARD_NOT_HELD). */
  private readonly shards: ScheduleShards;
  private stopped = false;

  private constructor(private readonly engine: ScheduleEngine, private readonly store: ScheduleStore, clock: Clock, ownership: ShardOwnership, private readonly logger?: ScheduleLogger) {
    this.clock = clock;
    this.taker = new ActionTaker(engine, clock);
    this.shards = new ScheduleShards(ownership, store, {
      adopt: (records) => {
        for (const record of records) this.adopt(record);
      },
      drop: (shards) => this.drop(shards),
      loadFailed: (error, shards, retryInMs) => this.logger?.warn({ err: error, shards, retryInMs }, 'the schedules of gained shards could not be loaded; retrying'),
    });
  }

  /**
   * Loads every schedule of the shards this node holds and arms its timer, and follows the
   * shards gained and lost from then on. Actions that came due while no node ran them are taken
   * (catch-up) in the background: `idle()` resolves once that is done.
   */
  static async start(options: ScheduleServiceOptions): Promise<ScheduleService> {
    const ownership = options.shards ?? ScheduleShards.ownershipOf(options.store);
    const service = new ScheduleService(options.engine, options.store, options.clock ?? systemClock, ownership, options.logger);
    await service.shards.start();
    return service;
  }

  /** Creates a schedule; SCHEDULE_ALREADY_EXISTS when the namespace has one of that id. */
  async create(options: ScheduleOptions & { namespace?: string }): Promise<ScheduleDescription> {
    const { namespace: given, ...rest } = (typeof options === 'object' && options !== null ? options : {}) as ScheduleOptions & { namespace?: string };
    const namespace = this.namespaceOf(given);
    const args = parseScheduleArgs('createSchedule', rest);
    const now = this.clock.now();
    const spec = resolveSpec(args.spec, now);
    this.engine.registry.latest(args.action.workflowType);
    const action = resolveAction(args.action, args.scheduleId);
    const policies = resolvePolicies(args.policies);
    const key = keyOf(namespace, args.scheduleId);
    this.shards.check(namespace, args.scheduleId);
    return this.queue.run(key, async () => {
      this.shards.check(namespace, args.scheduleId); // lost while queued: the new owner creates it
      if (this.entries.has(key) || (await this.store.getSchedule(namespace, args.scheduleId))) throw new ScheduleAlreadyExistsError(namespace, args.scheduleId);
      const calendar = new ScheduleCalendar(spec);
      const record: ScheduleRecord = {
        namespace, scheduleId: args.scheduleId, spec, action, policies,
        state: initialState(args.paused ?? false, args.note, calendar.nextAfter(now)), createdAt: now, updatedAt: now,
      };
      await this.store.putSchedule(record);
      const entry: Entry = { record, calendar, wakeQueued: false };
      this.entries.set(key, entry);
      this.arm(key, entry);
      return describeSchedule(record, calendar);
    });
  }

  /** The schedule, its state, and its next few action times. */
  async describe(ref: ScheduleRef): Promise<ScheduleDescription> {
    const { entry } = this.find(ref);
    return describeSchedule(entry.record, entry.calendar);
  }

  /** One page of a namespace's schedules, by id. */
  async list(options: { namespace?: string; limit?: number; pageToken?: string } = {}): Promise<SchedulePage> {
    const { namespace: given, ...rest } = options ?? {};
    const namespace = this.namespaceOf(given);
    const { limit, pageToken } = parseScheduleArgs('listSchedules', rest);
    const page = await this.store.listSchedules({ namespace, limit, pageToken });
    const schedules = page.schedules.map(summarizeSchedule);
    return page.nextPageToken === undefined ? { schedules } : { schedules, nextPageToken: page.nextPageToken };
  }

  /**
   * Replaces the parts given (spec, action, policies); the state and counts are kept. A new spec
   * moves the next action to its first time after now.
   */
  async update(ref: ScheduleRef, update: ScheduleUpdate): Promise<ScheduleDescription> {
    const args = parseScheduleArgs('updateSchedule', { ...(typeof update === 'object' && update !== null ? update : {}), scheduleId: ref?.scheduleId });
    return this.mutate(ref, (entry, now) => {
      let { record, calendar } = entry;
      if (args.spec) {
        const spec = resolveSpec(args.spec, now);
        calendar = new ScheduleCalendar(spec);
        record = recordSpecChanged(record, spec, calendar.nextAfter(now));
      }
      if (args.action) {
        this.engine.registry.latest(args.action.workflowType);
        record = { ...record, action: resolveAction(args.action, record.scheduleId) };
      }
      if (args.policies) record = { ...record, policies: resolvePolicies(args.policies) };
      return { record: { ...record, updatedAt: now }, calendar };
    });
  }

  /** No action is taken until unpaused; a buffered action is dropped. */
  async pause(ref: ScheduleRef, note?: string): Promise<ScheduleDescription> {
    parseScheduleArgs('pauseSchedule', { scheduleId: ref?.scheduleId, note });
    return this.mutate(ref, (entry, now) => {
      entry.watching = undefined;
      return { record: recordPaused(entry.record, note, now) };
    });
  }

  /** Goes on from the next time after now: times that passed while paused are not taken. */
  async unpause(ref: ScheduleRef, note?: string): Promise<ScheduleDescription> {
    parseScheduleArgs('unpauseSchedule', { scheduleId: ref?.scheduleId, note });
    return this.mutate(ref, (entry, now) => {
      const ahead = entry.record.state.nextActionAt;
      const next = ahead !== undefined && ahead > now ? ahead : entry.calendar.nextAfter(now);
      return { record: recordUnpaused(entry.record, note, next, now) };
    });
  }

  /**
   * Takes an action now (nominal time: now), under the schedule's overlap policy or the one
   * given (`allowAll` starts whatever is open). Works on a paused schedule too. A start the
   * engine refuses is counted as failed and rethrown with its code.
   */
  async trigger(ref: ScheduleRef, options: { overlap?: OverlapPolicy } = {}): Promise<TriggerResult> {
    const args = parseScheduleArgs('triggerSchedule', { scheduleId: ref?.scheduleId, overlap: options?.overlap });
    const { key, namespace } = this.find(ref);
    return this.queue.run(key, async () => {
      const entry = this.entryOf(key, namespace, args.scheduleId);
      const outcome = (await this.taker.take(entry.record, this.clock.now(), args.overlap ?? entry.record.policies.overlap, { triggered: true })) as ActionOutcome;
      await this.save(entry, recordOutcome(entry.record, outcome, { from: 'trigger' }));
      switch (outcome.kind) {
        case 'started':
          return { outcome: 'started', workflowId: outcome.result.workflowId, runId: outcome.result.runId };
        case 'buffered':
          this.wake(key); // to watch the open workflow
          return { outcome: 'buffered', nominalTime: outcome.nominalTime };
        case 'skipped':
          return { outcome: 'skipped', reason: 'an earlier action\'s workflow is still open (overlap policy); pass overlap "allowAll" to start anyway' };
        case 'failed': {
          const { code, message } = outcome.failure;
          throw new PerdureError(code as ErrorCode, message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message);
        }
      }
    });
  }

  /** Deletes the schedule; workflows it started are not touched. */
  async delete(ref: ScheduleRef): Promise<void> {
    const { key, namespace, scheduleId } = this.find(ref);
    await this.queue.run(key, async () => {
      const entry = this.entryOf(key, namespace, scheduleId);
      await this.store.deleteSchedule(namespace, scheduleId);
      this.clock.clearTimeout(entry.timer);
      entry.watching = undefined;
      this.entries.delete(key);
    });
  }

  /** True while some schedule has work under way or queued (a test clock waits for it before moving time). */
  get busy(): boolean {
    return this.queue.busy || this.shards.busy;
  }

  /** Resolves once no schedule has work under way (tests wait for catch-up and timer firings with it). */
  async idle(): Promise<void> {
    do {
      await this.shards.loaded();
      await this.queue.idle();
    } while (this.shards.busy);
  }

  /** Disarms every timer and waits for work under way. Stop it before the engine. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.shards.stop(); // a load under way adopts nothing now, and is not waited for
    for (const entry of this.entries.values()) this.clock.clearTimeout(entry.timer);
    await this.queue.idle();
  }

  // ── processing ──

  /** One pass over a schedule: the buffered action, every action now due, then the timer for the next. */
  private async process(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry || this.stopped) return;
    try {
      await this.runBuffered(key, entry);
      await this.runDue(entry);
      if (entry.record.state.bufferedAt !== undefined && entry.watching === undefined) await this.runBuffered(key, entry);
      entry.retryMs = undefined;
      this.arm(key, entry);
    } catch (error) {
      if (this.stopped || this.entries.get(key) !== entry) return;
      entry.retryMs = Math.min(entry.retryMs === undefined ? RETRY_MIN_MS : entry.retryMs * 2, RETRY_MAX_MS);
      const { namespace, scheduleId } = entry.record;
      this.logger?.warn({ err: error, namespace, scheduleId, retryInMs: entry.retryMs }, `schedule "${scheduleId}" could not take its action now; retrying`);
      this.arm(key, entry, this.clock.now() + entry.retryMs);
    }
  }

  private async runBuffered(key: string, entry: Entry): Promise<void> {
    const { bufferedAt, paused } = entry.record.state;
    if (bufferedAt === undefined || paused || this.entries.get(key) !== entry) return; // dropped: the new owner takes it
    const outcome = await this.taker.take(entry.record, bufferedAt, entry.record.policies.overlap, { buffered: true });
    if (outcome.kind === 'wait') this.watch(key, entry, outcome.workflowId);
    else await this.save(entry, recordOutcome(entry.record, outcome, { from: 'buffer' }));
  }

  /**
   * Every action whose time has come, oldest first: those older than the catch-up window are
   * counted as missed in one step; the others are taken under the overlap policy. An outcome
   * that started (or failed to start, or buffered) a workflow is written before the next action
   * is decided; skipped and missed ones are written in batches, as redoing them after a crash
   * starts nothing.
   */
  private async runDue(entry: Entry): Promise<void> {
    let record = entry.record;
    let unsaved = 0;
    const flush = async () => {
      if (unsaved === 0) return;
      await this.save(entry, record);
      unsaved = 0;
    };
    try {
      for (;;) {
        const at = record.state.nextActionAt;
        const now = this.clock.now();
        // A shard lost meanwhile: stop after the action under way (its new owner goes on).
        if (this.stopped || this.entries.get(keyOf(record.namespace, record.scheduleId)) !== entry) break;
        if (record.state.paused || at === undefined || at > now) break;
        const windowMs = toMs(record.policies.catchupWindow);
        if (now - at > windowMs) {
          const { count, next } = entry.calendar.countUntil(at, now - windowMs);
          record = recordMissed(record, count, next);
          unsaved++;
        } else {
          const outcome = (await this.taker.take(record, at, record.policies.overlap)) as ActionOutcome;
          record = recordOutcome(record, outcome, { from: 'spec', next: entry.calendar.nextAfter(at) });
          unsaved++;
          if (outcome.kind !== 'skipped') await flush();
        }
        if (unsaved >= SKIP_BATCH) await flush();
      }
    } catch (error) {
      await flush().catch(() => {});
      throw error;
    }
    await flush();
  }

  /** Wakes the schedule when the open workflow closes (bufferOne). */
  private watch(key: string, entry: Entry, workflowId: string): void {
    if (entry.watching === workflowId) return;
    entry.watching = workflowId;
    void this.taker.closed(entry.record.namespace, workflowId).catch(() => {}).then(() => {
      if (entry.watching !== workflowId) return;
      entry.watching = undefined;
      this.wake(key);
    });
  }

  /** Queues a processing pass (one at most waits). */
  private wake(key: string): void {
    const entry = this.entries.get(key);
    if (!entry || this.stopped || entry.wakeQueued) return;
    entry.wakeQueued = true;
    this.queue.run(key, async () => {
      entry.wakeQueued = false;
      await this.process(key);
    }).catch((error: unknown) => this.logger?.error({ err: error, key }, 'schedule processing failed'));
  }

  /** Arms the schedule's timer for `at` (default: its next action time; none while paused). */
  private arm(key: string, entry: Entry, at = entry.record.state.paused ? undefined : entry.record.state.nextActionAt): void {
    this.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    if (this.stopped || at === undefined || this.entries.get(key) !== entry) return;
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = undefined;
      this.wake(key);
    }, Math.max(0, at - this.clock.now()));
  }

  // ── plumbing ──

  /** A loaded schedule of a shard now held: kept, and a pass queued (its catch-up). */
  private adopt(record: ScheduleRecord): void {
    const key = keyOf(record.namespace, record.scheduleId);
    if (this.entries.has(key)) return; // a shard reported gained twice: the entry in memory is the newer
    let calendar: ScheduleCalendar;
    try {
      calendar = new ScheduleCalendar(record.spec);
    } catch (error) {
      // Valid when it was written; a newer cron parser may disagree. Kept (describe shows it), never acts.
      this.logger?.error({ err: error, namespace: record.namespace, scheduleId: record.scheduleId }, 'schedule spec no longer parses; the schedule takes no action');
      calendar = new ScheduleCalendar({ timezone: 'UTC' });
      record = { ...record, state: { ...record.state, nextActionAt: undefined } };
    }
    this.entries.set(key, { record, calendar, wakeQueued: false });
    this.wake(key);
  }

  /**
   * The shards were lost (handed over, or their lease ran out): their schedules leave memory and
   * their timers are disarmed. A pass under way is not interrupted: it ends after the action it
   * is taking, and its record write is refused, by the check in `save` or by the store's shard
   * fence. The action is then abandoned, and safely so: the new owner loads the record as last
   * written and takes the same nominal time again, and ActionTaker finds the workflow started
   * under that time's id, recording it rather than starting it twice.
   */
  private drop(shards: ReadonlySet<number>): void {
    for (const [key, entry] of this.entries) {
      if (!shards.has(this.shards.shardOf(entry.record.namespace, entry.record.scheduleId))) continue;
      this.clock.clearTimeout(entry.timer);
      entry.timer = undefined;
      entry.watching = undefined;
      this.entries.delete(key);
    }
  }

  /** A change of a schedule's definition or pause state: written, then the timer re-armed and a pass queued. */
  private async mutate(ref: ScheduleRef, change: (entry: Entry, now: number) => { record: ScheduleRecord; calendar?: ScheduleCalendar }): Promise<ScheduleDescription> {
    const { key, namespace, scheduleId } = this.find(ref);
    return this.queue.run(key, async () => {
      const entry = this.entryOf(key, namespace, scheduleId);
      const { record, calendar } = change(entry, this.clock.now());
      await this.save(entry, record);
      if (calendar) entry.calendar = calendar;
      this.arm(key, entry);
      this.wake(key);
      return describeSchedule(entry.record, entry.calendar);
    });
  }

  private async save(entry: Entry, record: ScheduleRecord): Promise<void> {
    const { namespace, scheduleId } = record;
    // Dropped (its shard lost): another node owns the record now, and this write would undo its
    // writes. Not SHARD_NOT_HELD: the action may be taken already, and a trigger must not be redone.
    if (this.entries.get(keyOf(namespace, scheduleId)) !== entry) {
      throw new PerdureError('SHARD_OWNERSHIP_LOST', `schedule "${scheduleId}" of namespace "${namespace}": its shard ${this.shards.shardOf(namespace, scheduleId)} was lost while its record was being written; nothing was written, and the shard's new owner runs the schedule on. Retry the call.`);
    }
    await this.store.putSchedule(record);
    entry.record = record;
  }

  private find(ref: ScheduleRef): { key: string; namespace: string; scheduleId: string; entry: Entry } {
    const namespace = this.namespaceOf(ref?.namespace);
    const { scheduleId } = parseScheduleArgs('describeSchedule', { scheduleId: ref?.scheduleId });
    const key = keyOf(namespace, scheduleId);
    return { key, namespace, scheduleId, entry: this.entryOf(key, namespace, scheduleId) };
  }

  private entryOf(key: string, namespace: string, scheduleId: string): Entry {
    // Another node's (or not loaded yet): SHARD_NOT_HELD, which the cluster retries on its owner.
    this.shards.check(namespace, scheduleId);
    const entry = this.entries.get(key);
    if (!entry) throw new ScheduleNotFoundError(namespace, scheduleId);
    return entry;
  }

  private namespaceOf(namespace: string | undefined): string {
    if (this.stopped) throw new EngineStoppedError();
    return validateId(namespace ?? 'default', 'namespace');
  }
}

function keyOf(namespace: string, scheduleId: string): string {
  return KeyedQueue.key(namespace, scheduleId);
}

