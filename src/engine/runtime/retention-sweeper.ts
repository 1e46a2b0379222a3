import { InvalidArgumentError, PerdureError } from '../../common/errors.ts';
import type { ClosedRunRef, NamespaceStore, RetentionStore, StoreLifecycle } from '../../store/store.ts';
import { MAX_TIMEOUT_MS, type Clock } from '../../common/clock.ts';
import type { NamespaceRegistry } from './namespaces.ts';

/** Options of the retention sweeper (`EngineOptions.retention`). */
export interface RetentionOptions {
  /**
   * How often (in real time) closed executions past their namespace's retention are looked
   * for. Default 10 minutes, at most ~24.8 days; the first sweep runs one minute after start (or
   * after the interval, if shorter). `0` turns the background sweep off
   * (`engine.retention.sweepNow()` still works).
   */
  sweepEveryMs?: number;
  /** Runs deleted per batch. Each run's deletion is atomic; a batch's deletions share group commits. Default 500. */
  batchSize?: number;
  /** Told after every sweep, including one that failed (`error`): for logs. Must not throw. */
  onSweep?(report: SweepReport): void;
}

/** What one sweep did. */
export interface SweepReport {
  /** Runs deleted, in all namespaces. */
  deleted: number;
  /** Runs deleted per namespace (namespaces with none are left out). */
  byNamespace: Record<string, number>;
  /** When the sweep began (clock time); each namespace's cutoff is this minus its retention. */
  at: number;
  /** Set when the sweep stopped on an error; runs deleted before it stay deleted. */
  error?: Error;
}

const DEFAULT_SWEEP_EVERY_MS = 10 * 60_000;
const FIRST_SWEEP_MAX_DELAY_MS = 60_000;
const DEFAULT_BATCH = 500;

/**
 * Deletes closed executions older than their namespace's retention: the run record, its whole
 * history, its listing entries, its idempotency key, and its workflow id's pointer when that
 * still names it (an open run of the same workflow id is never touched).
 *
 * A sweep reads, per namespace, only the expired part of the store's close-time index, in
 * batches of `batchSize`; each run is deleted atomically, so a crash mid-sweep leaves every run
 * either whole or gone, and the next sweep goes on.
 *
 * What is expired is judged on the engine's Clock, so a test moves past a retention with
 * `TestClock.advance` and then sweeps (`sweepNow()`, or waits for the next background sweep).
 * The background sweeps themselves are paced on real time, like idle eviction: a recurring timer
 * on a virtual clock would never let `runUntilIdle()` finish, and auto-skipping would jump time
 * forward by whole intervals (deleting runs a test still reads).
 *
 * @example
 * const engine = await Engine.start({ workflows, store: new LevelStore({ directory: dataDir }), clock, retention: { sweepEveryMs: 60_000 } });
 * const report = await engine.retention.sweepNow(); // { deleted, byNamespace, at }
 */
export class RetentionSweeper {
  private readonly sweepEveryMs: number;
  private readonly batchSize: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<SweepReport> | undefined;
  private stopped = false;

  constructor(
    private readonly store: RetentionStore & NamespaceStore & Pick<StoreLifecycle, 'shards'>,
    private readonly namespaces: NamespaceRegistry,
    private readonly clock: Clock,
    private readonly options: RetentionOptions = {},
  ) {
    this.sweepEveryMs = positive(options.sweepEveryMs, DEFAULT_SWEEP_EVERY_MS, 'retention.sweepEveryMs', true);
    this.batchSize = positive(options.batchSize, DEFAULT_BATCH, 'retention.batchSize', false);
  }

  /** Arms the background sweep (nothing when `sweepEveryMs` is 0). */
  start(): void {
    if (this.sweepEveryMs === 0 || this.stopped) return;
    this.arm(Math.min(this.sweepEveryMs, FIRST_SWEEP_MAX_DELAY_MS));
  }

  /**
   * Sweeps now; a sweep already running is joined rather than doubled. Resolves with what was
   * deleted; a failure is in `report.error` (and the next sweep tries again).
   */
  sweepNow(): Promise<SweepReport> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops sweeping; resolves once a sweep in flight has finished its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private arm(ms: number): void {
    // One timer after another (not setInterval): sweeps never overlap, however long one takes.
    this.timer = setTimeout(() => {
      void this.sweepNow().then(() => {
        if (!this.stopped) this.arm(this.sweepEveryMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async sweep(): Promise<SweepReport> {
    const report: SweepReport = { deleted: 0, byNamespace: {}, at: this.clock.now() };
    try {
      for (const namespace of this.namespaces.list()) {
        if (this.stopped) break;
        const deleted = await this.sweepNamespace(namespace.name, report.at - namespace.retention);
        if (deleted > 0) report.byNamespace[namespace.name] = deleted;
        report.deleted += deleted;
      }
    } catch (error) {
      report.error = error instanceof Error ? error : new Error(String(error));
    }
    this.options.onSweep?.(report);
    return report;
  }

  /** Deletes, batch by batch, the runs of one namespace closed before `cutoff`. */
  private async sweepNamespace(namespace: string, cutoff: number): Promise<number> {
    let deleted = 0;
    let after: ClosedRunRef | undefined;
    while (!this.stopped) {
      const batch = await this.store.listClosedRuns(namespace, { closedBefore: cutoff, limit: this.batchSize, after });
      if (batch.length === 0) break;
      // Each node deletes the runs of the shards it holds, while no execution of theirs can be
      // loaded elsewhere; the other nodes delete theirs. Concurrently: the store writes them in shared
      // group commits, each run still atomic.
      const held = this.store.shards().held();
      const mine = batch.filter((ref) => held.has(ref.shard));
      const results = await Promise.allSettled(mine.map((ref) => this.store.deleteRun(ref.runId)));
      for (const result of results) {
        if (result.status === 'fulfilled') {
          if (result.value) deleted++;
        } else if (!(result.reason instanceof PerdureError && result.reason.code === 'INVALID_ARGUMENT')) {
          // A run the store refuses to delete is skipped (the cursor moves past it); a store
          // failure ends the sweep.
          throw result.reason;
        }
      }
      if (batch.length < this.batchSize) break;
      after = batch[batch.length - 1];
    }
    return deleted;
  }
}

function positive(value: number | undefined, fallback: number, field: string, zeroAllowed: boolean): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < (zeroAllowed ? 0 : 1) || value > MAX_TIMEOUT_MS) {
    throw new InvalidArgumentError(`${field} must be a ${zeroAllowed ? 'non-negative' : 'positive'} integer of at most ${MAX_TIMEOUT_MS}, got ${value}`);
  }
  return value;
}
