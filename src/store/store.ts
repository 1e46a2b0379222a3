import type { PerdureError } from '../common/errors.ts';
import type { ExecutionStatus, HistoryEvent } from '../common/history.ts';
import type { RunSummary } from '../common/execution-types.ts';
import type { NamespaceInfo } from '../common/namespaces.ts';
import type { ScheduleRecord } from '../common/schedule-types.ts';
import type { SearchAttributeFilters } from '../common/search-attributes.ts';
import type { RunRecord } from '../common/run-model.ts';
import type { LeaseObserver } from './lease-events.ts';
import type { ShardOwnership } from './shard-ownership.ts';

/**
 * The durable state of Perdure. The store knows nothing of XState: a snapshot is an opaque JSON
 * value. Everything one engine step changes is one `RunCommit`, written atomically; commits of
 * many runs that arrive together are written as one durable batch (group commit).
 *
 * Backends: `LevelStore` (embedded, one process per directory) and `PostgresStore`
 * (`postgres/`, docs/cluster.md); `storeConformanceSuite` from `perdure/testing` proves a
 * backend conforms. The interface is the sum of one part per concern, so code that needs one
 * concern (retention, schedules) can say so in its types.
 */
export interface Store extends StoreLifecycle, RunStore, WorkIndex, VisibilityStore, NamespaceStore, RetentionStore, ScheduleStore {}

export interface StoreLifecycle {
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Which shards this node holds and who holds the rest (shard-ownership.ts), once open.
   * LevelDB: one shard, always held. PostgreSQL: shards leased between the nodes of a cluster.
   */
  shards(): ShardOwnership;
  /**
   * Why the store stopped taking writes (fail-stop after a failed durable write), or undefined
   * while it is healthy. It does not recover by itself: `/healthz` reports it so that an
   * orchestrator restarts the server.
   */
  failure?(): PerdureError | undefined;
  /**
   * Tells `observer` of every durable batch the store writes from now on (how many commits it
   * held, how many rows or keys, how long it took): the server's metrics read group commit
   * through this, whatever the backend. Answers the function that stops telling. Optional: a
   * store without batches has nothing to tell.
   */
  observeBatches?(observer: BatchObserver): () => void;
  /**
   * Tells `observer` of what this node's shard leases do from now on (lease-events.ts: takes,
   * renewals, losses, hand-overs): the server's metrics read the leases through this, whatever
   * the backend. Callable before open, so the first take is told too. Answers the function that
   * stops telling. Optional: a store without leases (LevelDB) has nothing to tell.
   */
  observeLeases?(observer: LeaseObserver): () => void;
}

/** Told of every durable batch a store writes: for metrics. An observer that throws is ignored. */
export type BatchObserver = (batch: { commits: number; operations: number; ms: number }) => void;

/** Runs and their histories: the one write path (`commit`) and the reads of one run. */
export interface RunStore {
  /**
   * Appends the run's new history events and replaces its record, timers, tasks and listing
   * entry, all or nothing. Resolves once durable (per the store's durability setting).
   * Invariant: `events` continue the run's history without a gap: the first has
   * `seq === previousLastSeq + 1`; a commit that breaks this is refused.
   */
  commit(commit: RunCommit): Promise<void>;

  getRun(runId: string): Promise<RunRecord | undefined>;
  /** The run a workflow id currently points at (the open run, else the latest closed one). */
  getCurrentRunId(namespace: string, workflowId: string): Promise<string | undefined>;
  findRunByIdempotencyKey(namespace: string, key: string): Promise<string | undefined>;

  /** History events of a run in `seq` order, checksums verified (HistoryCorruptedError). */
  readHistory(runId: string, options?: { fromSeq?: number; limit?: number }): Promise<HistoryEvent[]>;
}

/**
 * The work waiting to be done: durable timers (and outbox items) and activity tasks, written by
 * commits. Each scan takes the shard it looks in (the engine scans each shard it holds on its
 * own); without one it looks in every shard, for tools and tests.
 */
export interface WorkIndex {
  /** Timers due at or before `dueBefore`, earliest first. */
  listDueTimers(dueBefore: number, limit: number, shard?: number): Promise<TimerEntry[]>;
  /** The earliest timer, or undefined: tells the engine when to look next. */
  nextTimer(shard?: number): Promise<TimerEntry | undefined>;
  /** Every outstanding activity task (used to re-dispatch when a shard is taken). */
  listTasks(shard?: number): Promise<TaskEntry[]>;
}

/** Listing and counting runs (docs/visibility.md). */
export interface VisibilityStore {
  /** Visibility: runs of a namespace, newest first, filtered, paginated. */
  listRuns(query: ListRunsQuery): Promise<ListRunsPage>;
  /**
   * Visibility: how many runs match the filters of a listing (`limit` and `pageToken` are
   * ignored). A backend may stop counting at a cap and say so with `capped: true`.
   */
  countRuns(query: ListRunsQuery): Promise<CountRunsResult>;
}

export interface NamespaceStore {
  /**
   * Namespaces. A store has `default` (with `DEFAULT_RETENTION_MS`) from its first open; an
   * open never changes an existing `default`. Names are compared exactly.
   */
  getNamespace(name: string): Promise<NamespaceRecord | undefined>;
  /** Every namespace, by name. */
  listNamespaces(): Promise<NamespaceRecord[]>;
  /** Creates or replaces a namespace record, durably and atomically (the caller checks existence). */
  putNamespace(record: NamespaceRecord): Promise<void>;
}

/** What the retention sweep needs: closed runs by close time, and their deletion. */
export interface RetentionStore {
  /**
   * Retention: closed runs of a namespace closed before `closedBefore`, oldest first, from a
   * close-time index (a sweep reads only expired runs, never every run). `after` continues a
   * previous call: only runs sorting after it are returned.
   */
  listClosedRuns(namespace: string, options: { closedBefore: number; limit: number; after?: ClosedRunRef }): Promise<ClosedRunRef[]>;
  /**
   * Deletes a closed run atomically: its record, its whole history, its listing entries, its
   * close-time entry, its idempotency key and its workflow id's current-run pointer (each only
   * while it still points at this run). Resolves false when there is no such run, or while its
   * outbox still holds work (a later sweep takes it); refuses an open run (INVALID_ARGUMENT).
   * Safe against concurrent commits: a new run of the same workflow id started meanwhile keeps
   * its pointer.
   */
  deleteRun(runId: string): Promise<boolean>;
}

export interface ScheduleStore {
  /** A schedule's record, or undefined when the namespace has no schedule of that id. */
  getSchedule(namespace: string, scheduleId: string): Promise<ScheduleRecord | undefined>;
  /**
   * Creates or replaces a schedule's record in one atomic, durable write (per the store's
   * durability setting). The schedule service puts everything one action changes — the action
   * taken and the next action time — in one record, so one write never leaves half of it.
   */
  putSchedule(record: ScheduleRecord): Promise<void>;
  /** Removes a schedule's record; removing one that does not exist is not an error. */
  deleteSchedule(namespace: string, scheduleId: string): Promise<void>;
  /** Schedules of one namespace (or, without `namespace`, of all), ordered by namespace then id, paginated. */
  listSchedules(query: ListSchedulesQuery): Promise<ListSchedulesPage>;
}

export type Durability = 'fsync' | 'os';

/**
 * An entry of the durable timer index. `kind` says what firing it means:
 * a machine timer, the end of an activity's retry backoff, an activity timeout, or an outbox item
 * to be done (`id` is the item's id).
 */
export interface TimerEntry {
  dueAt: number;
  runId: string;
  /** Unique within the run for its kind. */
  id: string;
  kind: 'timer' | 'retry' | 'scheduleToClose' | 'outbox';
}

/** An outstanding activity attempt waiting for (or held by) a worker. */
export interface TaskEntry {
  namespace: string;
  taskQueue: string;
  runId: string;
  activityId: string;
  attempt: number;
}

export interface RunCommit {
  run: RunRecord;
  /**
   * The shard of the run (`shards().shardOf(namespace, workflowId)`) and the epoch this node
   * held it at when the step was taken. The engine sets both; a store refuses a commit whose
   * shard is not the run's (INVALID_ARGUMENT) or whose epoch is no longer held
   * (SHARD_OWNERSHIP_LOST): a node that lost the shard can never write to it again.
   */
  shard?: number;
  epoch?: number;
  /** The run's lastSeq before this commit (0 for a new run). */
  previousLastSeq: number;
  /** The run's status before this commit (undefined for a new run): the listing key moves. */
  previousStatus?: ExecutionStatus;
  events: HistoryEvent[];
  /** Index changes. Within one commit, deletes are applied before puts. */
  timers?: { put?: TimerEntry[]; delete?: TimerEntry[] };
  tasks?: { put?: TaskEntry[]; delete?: TaskEntry[] };
}

/**
 * Filters of a listing; every one given must match. Time bounds are ms since epoch, the lower
 * bound inclusive and the upper bound exclusive, so adjacent windows never overlap.
 */
export interface ListRunsQuery {
  namespace: string;
  status?: ExecutionStatus;
  type?: string;
  /** Runs started at or after this time. */
  startedAfter?: number;
  /** Runs started before this time. */
  startedBefore?: number;
  /** Closed runs closed at or after this time (open runs never match). */
  closedAfter?: number;
  /** Closed runs closed before this time (open runs never match). */
  closedBefore?: number;
  /** Runs whose workflow id starts with this string. */
  workflowIdPrefix?: string;
  /**
   * Runs whose search attributes match: a value matches exactly (a string, a number, a
   * boolean), a range `{ gte?, gt?, lte?, lt? }` bounds a number. A run without the attribute
   * never matches. An exact match is answered by an index; ranges are checked on each row.
   */
  searchAttributes?: SearchAttributeFilters;
  /** Page size, default 100, at most 1000. */
  limit?: number;
  /** Opaque token from the previous page. */
  pageToken?: string;
}

/**
 * A page of a listing. A page may hold fewer than `limit` runs (even none) and still have a
 * `nextPageToken`: filters a backend checks while scanning stop a page after a bounded scan.
 * The listing has ended only when `nextPageToken` is absent.
 */
export interface ListRunsPage {
  runs: RunSummary[];
  nextPageToken?: string;
}

/** The answer of `countRuns`: `capped` when counting stopped at the backend's cap. */
export interface CountRunsResult {
  count: number;
  capped?: boolean;
}

/** A namespace as the store keeps it (`retention` in ms). */
export type NamespaceRecord = NamespaceInfo;

/** An entry of the close-time index: a closed run and when it closed. */
export interface ClosedRunRef {
  runId: string;
  closedAt: number;
  /** The run's shard: only the node that holds it deletes the run. */
  shard: number;
}
/** A listing of schedules. */
export interface ListSchedulesQuery {
  /** Only this namespace's schedules; every namespace's when absent (the server's start). */
  namespace?: string;
  /**
   * Only the schedules of these shards (`shards().shardOf(namespace, scheduleId)`); every shard's
   * when absent. A node loads the schedules of the shards it gained with it.
   */
  shards?: readonly number[];
  /** Page size, default 100, at most 1000. */
  limit?: number;
  /** Opaque token from the previous page. */
  pageToken?: string;
}

/** A page of schedules; the listing has ended when `nextPageToken` is absent. */
export interface ListSchedulesPage {
  schedules: ScheduleRecord[];
  nextPageToken?: string;
}

export type { ScheduleRecord };
