import { ShardNotHeldError } from '../common/errors.ts';
import type { ScheduleRecord } from '../common/schedule-types.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import { SingleNodeShards } from '../store/single-node-shards.ts';
import type { ScheduleStore, Store } from '../store/store.ts';

/** What the schedule service does when the shards it follows change. */
export interface ShardFollower {
  /** The schedules of shards now held and loaded: arm their timers, catch up. */
  adopt(records: ScheduleRecord[]): void;
  /** The shards are no longer held: forget their schedules and disarm their timers. */
  drop(shards: ReadonlySet<number>): void;
  /** A load failed (the database is away): it is tried again after `retryInMs`. */
  loadFailed(error: unknown, shards: number[], retryInMs: number): void;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
const PAGE = 1_000;

/**
 * The shards whose schedules this node runs (DESIGN.md: "timers, outbox, retention, schedules
 * run per shard on its owner"): a schedule belongs to shard `shardOf(namespace, scheduleId)`,
 * and each node runs only the schedules of the shards it holds, so no two nodes take one
 * schedule's actions or write its record.
 *
 * A shard is *ready* once it is held and its schedules are loaded. Until then, operations on
 * its schedules are refused with SHARD_NOT_HELD (retryable: the cluster forwards them to the
 * owner, or retries here once the load is done), never answered SCHEDULE_NOT_FOUND for a
 * schedule that is merely not loaded yet.
 *
 * Loading lists the schedules of the gained shards (`listSchedules({ shards })`: on PostgreSQL
 * a filter on the first column of the primary key; on LevelDB every schedule, the one node
 * holding the one shard).
 *
 * On LevelDB the one node holds the one shard from start to close: nothing is ever gained
 * or lost, and everything loads once at start, as before clusters.
 *
 * @example
 * const shards = new ScheduleShards(store.shards(), store, follower);
 * await shards.start();        // loads the shards held now
 * shards.check('default', 'nightly'); // throws SHARD_NOT_HELD unless its shard is ready
 * shards.stop();
 */
export class ScheduleShards {
  /** Shards held, each with the generation of its latest gain (a load of an older one is stale). */
  private readonly wanted = new Map<number, number>();
  private readonly ready = new Set<number>();
  private generation = 0;
  private unsubscribe?: () => void;
  private stopped = false;
  /** Loads under way (the service's `idle()` waits for them: a test moves time once gained shards are loaded). */
  private readonly loading = new Set<Promise<void>>();

  constructor(
    private readonly ownership: ShardOwnership,
    private readonly store: ScheduleStore,
    private readonly follower: ShardFollower,
  ) {}

  /** The store's own shard ownership, if it has one (every `Store` does; a test's bare ScheduleStore may not). */
  static ownershipOf(store: ScheduleStore): ShardOwnership {
    const shards = (store as Partial<Store>).shards;
    return typeof shards === 'function' ? shards.call(store) : new SingleNodeShards();
  }

  /** Follows the held set from now on and loads the shards held now; resolves once those are loaded. */
  async start(): Promise<void> {
    // Subscribed before reading held(): a shard gained in between is gained twice, which is
    // harmless (the second gain supersedes the first load), while the other order could miss one.
    this.unsubscribe = this.ownership.subscribe((change) => {
      if (change.lost.length > 0) this.lose(change.lost);
      if (change.gained.length > 0) void this.gain(change.gained);
    });
    await this.gain([...this.ownership.held().keys()]);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
  }

  /** True while the schedules of gained shards are being loaded. */
  get busy(): boolean {
    return this.loading.size > 0;
  }

  /** Resolves once no load is under way (loads begun meanwhile included). */
  async loaded(): Promise<void> {
    while (this.loading.size > 0) await Promise.all([...this.loading]);
  }

  /** The shard of a schedule (the same hash as an execution's, on the schedule id). */
  shardOf(namespace: string, scheduleId: string): number {
    // Not prefixed: a schedule and a workflow of one id share a shard. They live in different
    // tables and never collide, and the PostgreSQL rows already written are placed this way.
    return this.ownership.shardOf(namespace, scheduleId);
  }

  /** Throws SHARD_NOT_HELD unless the schedule's shard is held here and its schedules are loaded. */
  check(namespace: string, scheduleId: string): void {
    const shard = this.shardOf(namespace, scheduleId);
    if (!this.ready.has(shard)) throw new ShardNotHeldError(shard);
  }

  /** Whether the schedule's shard is ready here. */
  holds(namespace: string, scheduleId: string): boolean {
    return this.ready.has(this.shardOf(namespace, scheduleId));
  }

  private lose(shards: number[]): void {
    const gone = new Set<number>();
    for (const shard of shards) {
      this.wanted.delete(shard);
      if (this.ready.delete(shard)) gone.add(shard);
    }
    if (gone.size > 0) this.follower.drop(gone);
  }

  private gain(shards: number[]): Promise<void> {
    const generation = ++this.generation;
    for (const shard of shards) this.wanted.set(shard, generation);
    const load = this.load(shards, generation);
    this.loading.add(load);
    void load.finally(() => this.loading.delete(load));
    return load;
  }

  /** Loads the shards' schedules, retrying while the database is away, as long as they are still wanted. */
  private async load(shards: number[], generation: number): Promise<void> {
    for (let retryMs = RETRY_MIN_MS; ; retryMs = Math.min(retryMs * 2, RETRY_MAX_MS)) {
      const current = () => shards.filter((s) => this.wanted.get(s) === generation);
      if (this.stopped || current().length === 0) return;
      let records: ScheduleRecord[];
      try {
        records = await this.read(new Set(current()));
      } catch (error) {
        this.follower.loadFailed(error, current(), retryMs);
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        continue;
      }
      // Lost (or gained again) while reading: only the shards still wanted at this generation count.
      const still = new Set(current());
      if (this.stopped || still.size === 0) return;
      for (const shard of still) this.ready.add(shard);
      this.follower.adopt(records.filter((r) => still.has(this.shardOf(r.namespace, r.scheduleId))));
      return;
    }
  }

  private async read(shards: ReadonlySet<number>): Promise<ScheduleRecord[]> {
    const records: ScheduleRecord[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.store.listSchedules({ shards: [...shards], limit: PAGE, pageToken });
      // Filtered here too: a store of before the shard filter (or a test's) may list them all.
      for (const record of page.schedules) if (shards.has(this.shardOf(record.namespace, record.scheduleId))) records.push(record);
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
    return records;
  }
}
