import type { Store } from '../store/store.ts';
import type { PendingActivity } from '../common/run-model.ts';
import type { TestClock } from './test-clock.ts';

/**
 * Tells when an engine has nothing to do but wait for time, by watching its store: every step
 * the engine takes reads or commits through the store, and every committed run record lists
 * the activity attempts still outstanding.
 *
 * The engine is idle when no store call is in flight across a few event-loop turns, no timer is
 * due at the current virtual time, and no activity attempt is due and unreported. An attempt
 * holds virtual time for at most `activityHoldMs` of real time: long enough for in-process
 * activities to report, so a worker's real time never looks like a timeout; short enough that an
 * activity that hangs on purpose lets time move on to its own timeout.
 */
export class EngineWatch {
  private inFlight = 0;
  private started = 0;
  private quiet: (() => void)[] = [];
  /** Outstanding attempts per run: key `activityId#attempt` → when the attempt is ready (virtual). */
  private readonly attempts = new Map<string, Map<string, number>>();
  /** Real time (performance.now) at which an attempt was first seen due. */
  private readonly dueSince = new Map<string, number>();

  constructor(private readonly clock: TestClock, private readonly activityHoldMs: number) {}

  /** The store, with every call counted and every commit's outstanding attempts noted. */
  wrap(store: Store): Store {
    return new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (!isThenable(result)) return result;
          this.begin();
          return Promise.resolve(result).then((out) => {
            if (property === 'commit') this.noteCommit(args[0] as Parameters<Store['commit']>[0]);
            this.end();
            return out;
          }, (error: unknown) => {
            this.end();
            throw error;
          });
        };
      },
    });
  }

  /** Forgets what a stopped engine had outstanding, and reads what the new one recovers. */
  async reset(store: Store): Promise<void> {
    this.attempts.clear();
    this.dueSince.clear();
    const runIds = new Set((await store.listTasks()).map((t) => t.runId));
    for (const runId of runIds) {
      const run = await store.getRun(runId);
      if (run) this.noteRun(run.runId, run.activities);
    }
  }

  /** Resolves once the engine is idle (see the class comment). */
  async idle(): Promise<void> {
    for (;;) {
      await nextTurn();
      if (this.inFlight > 0) {
        await new Promise<void>((resolve) => this.quiet.push(resolve));
        continue;
      }
      const epoch = this.started;
      await nextTurn();
      await nextTurn();
      if (this.inFlight > 0 || this.started !== epoch || this.clock.hasDue()) continue;
      const hold = this.activityHold();
      if (hold <= 0) return;
      await realSleep(Math.min(hold, 5));
    }
  }

  /** Real ms for which a due, unreported activity attempt still holds time; 0 when none does. */
  private activityHold(): number {
    const now = this.clock.now();
    const real = performance.now();
    let hold = 0;
    for (const [runId, attempts] of this.attempts) {
      for (const [key, readyAt] of attempts) {
        if (readyAt > now) continue;
        const id = `${runId}/${key}`;
        const since = this.dueSince.get(id) ?? real;
        this.dueSince.set(id, since);
        hold = Math.max(hold, this.activityHoldMs - (real - since));
      }
    }
    return hold;
  }

  private noteCommit(commit: Parameters<Store['commit']>[0]): void {
    this.noteRun(commit.run.runId, commit.run.activities);
  }

  private noteRun(runId: string, activities: Record<string, PendingActivity>): void {
    const next = new Map<string, number>();
    for (const a of Object.values(activities)) next.set(`${a.activityId}#${a.attempt}`, a.attemptReadyAt);
    const previous = this.attempts.get(runId);
    for (const key of previous?.keys() ?? []) if (!next.has(key)) this.dueSince.delete(`${runId}/${key}`);
    if (next.size) this.attempts.set(runId, next);
    else this.attempts.delete(runId);
  }

  private begin(): void {
    this.inFlight++;
    this.started++;
  }

  private end(): void {
    if (--this.inFlight > 0) return;
    const waiting = this.quiet;
    this.quiet = [];
    for (const resolve of waiting) resolve();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Real time, on purpose: this waits for work outside virtual time (an activity's own code). */
function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => globalThis.setTimeout(resolve, ms));
}
