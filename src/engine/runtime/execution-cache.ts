import { ExecutionAlreadyStartedError, ExecutionClosedError, ExecutionNotFoundError, VersionMissingError } from '../../common/errors.ts';
import { CLOSED_STATUSES } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import type { RunCommit, Store } from '../../store/store.ts';
import type { RunRecord } from '../../common/run-model.ts';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import { Execution, type ExecutionHost } from './execution.ts';
import { ClosedRun } from './run-actor.ts';
import { restoreSnapshot } from '../core/machine-step.ts';
import type { WorkflowRegistry } from '../core/registry.ts';
import { resultOf, type ExecutionResult } from '../core/execution-views.ts';
import { StepBudget } from '../core/step-budget.ts';

function workflowKey(namespace: string, workflowId: string): string {
  return `${namespace}\u0000${workflowId}`;
}

interface Waiter {
  resolve(result: ExecutionResult): void;
  reject(error: Error): void;
  timer?: TimerHandle;
}

/**
 * The executions in memory. Open executions are loaded on their first event and leave memory
 * when idle (passivation); closed ones leave at once. A run whose machine version is not
 * registered stays in the store untouched and is reported as blocked.
 */
export class ExecutionCache {
  private readonly live = new Map<string, Execution>();
  /** Open executions in memory by namespace + workflow id: spares a store read per call. */
  private readonly byWorkflow = new Map<string, Execution>();
  private readonly loading = new Map<string, Promise<Execution | undefined>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Actors of closed runs whose outbox items are being removed, while they have work. */
  private readonly closedRuns = new Map<string, ClosedRun>();
  private readonly host: ExecutionHost;

  constructor(
    private readonly store: Store,
    private readonly registry: WorkflowRegistry,
    private readonly clock: Clock,
    hooks: Pick<ExecutionHost, 'afterCommit' | 'historyLimits' | 'maxPayloadBytes' | 'stepLimits' | 'stepStopped'>,
    private readonly idleEvictMs: number,
  ) {
    // The step deadline is wall time on a monotonic clock, never the engine's (test) clock: it
    // bounds how long the event loop is held, which a simulated clock does not see.
    const stepBudget = new StepBudget(hooks.stepLimits, () => performance.now());
    this.host = {
      store, historyLimits: hooks.historyLimits, maxPayloadBytes: hooks.maxPayloadBytes, stepLimits: hooks.stepLimits, stepBudget, stepStopped: (error) => hooks.stepStopped(error),
      now: () => clock.now(), afterCommit: (execution, events, decision) => hooks.afterCommit(execution, events, decision),
    };
  }

  create(run: RunRecord, definition: WorkflowDefinition): Execution {
    const execution = new Execution(this.host, definition, run, undefined);
    this.remember(execution);
    return execution;
  }

  /**
   * Makes a new run from a first commit planned elsewhere (a reset's), committed by its own
   * execution like every commit of a run. Nothing of the run exists if the commit fails.
   */
  async createFrom(commit: RunCommit, definition: WorkflowDefinition): Promise<Execution> {
    // A first commit makes a run that does not exist yet; an execution in memory under its id
    // would be replaced in the cache, and dropped with this one if the commit failed.
    if (this.live.has(commit.run.runId)) throw new ExecutionAlreadyStartedError(commit.run.namespace, commit.run.workflowId, commit.run.runId);
    // Held as empty until the commit is durable: an execution holds committed state only.
    const execution = this.create({
      ...commit.run, lastSeq: 0, snapshot: null, activities: {}, timers: {}, children: {}, outbox: {}, historyBytes: 0,
    }, definition);
    try {
      await execution.commitPlanned(commit);
    } catch (error) {
      this.discard(execution);
      throw error;
    }
    return execution;
  }

  /**
   * Removes done outbox items from a closed run, through that run's one ClosedRun actor: kept
   * while it has work, so that removals of one run are made one at a time.
   */
  async settleClosedOutbox(runId: string, itemIds: readonly string[]): Promise<void> {
    let actor = this.closedRuns.get(runId);
    if (!actor) {
      actor = new ClosedRun(this.store, runId);
      this.closedRuns.set(runId, actor);
    }
    try {
      await actor.removeOutboxItems(itemIds);
    } finally {
      if (actor.idle && this.closedRuns.get(runId) === actor) this.closedRuns.delete(runId);
    }
  }

  /**
   * The execution of an open run, even one whose machine version is not registered (blocked):
   * that one is made on `definition` with no snapshot and is not cached; a migration gives it a
   * snapshot, and `admit` then caches it.
   */
  async adopt(runId: string, definition: WorkflowDefinition): Promise<Execution | undefined> {
    const loaded = await this.load(runId);
    if (loaded) return loaded;
    const run = await this.store.getRun(runId);
    if (!run || CLOSED_STATUSES.has(run.status)) return undefined;
    return new Execution(this.host, definition, run, undefined);
  }

  /** Caches an execution made by `adopt` once it has a snapshot of its own. */
  admit(execution: Execution): void {
    if (!this.live.has(execution.runId) && !execution.closed) this.remember(execution);
  }

  /** Drops an execution made by `create` whose first step was refused: no run of it exists. */
  discard(execution: Execution): void {
    if (execution.run.lastSeq === 0) this.forget(execution);
  }

  /** The open execution of a workflow id, if it is in memory. */
  openByWorkflow(namespace: string, workflowId: string): Execution | undefined {
    const execution = this.byWorkflow.get(workflowKey(namespace, workflowId));
    return execution && !execution.closed ? execution : undefined;
  }

  peek(runId: string): Execution | undefined {
    return this.live.get(runId);
  }

  /** The open execution of a run, loading it if needed; undefined when closed, blocked or unknown. */
  load(runId: string): Promise<Execution | undefined> {
    const live = this.live.get(runId);
    if (live) return Promise.resolve(live.closed ? undefined : live);
    let loading = this.loading.get(runId);
    if (!loading) {
      loading = this.loadFromStore(runId).finally(() => this.loading.delete(runId));
      this.loading.set(runId, loading);
    }
    return loading;
  }

  /** A closed run as an execution that is not cached and takes no events: for queries. */
  async readOnly(runId: string): Promise<Execution | undefined> {
    const run = await this.store.getRun(runId);
    const definition = run && this.registry.get(run.type, run.version);
    if (!run || !definition || run.lastSeq === 0) return undefined;
    return new Execution(this.host, definition, run, restoreSnapshot(definition.machine, run.snapshot));
  }

  /** The current record of a run: live if in memory, with the blocked status overlaid. */
  async record(runId: string): Promise<RunRecord | undefined> {
    const live = this.live.get(runId);
    if (live) return live.reported;
    const run = await this.store.getRun(runId);
    if (run && !CLOSED_STATUSES.has(run.status) && !this.registry.get(run.type, run.version)) return this.markBlocked(run);
    return run;
  }

  /** For a run `load` could not open: the error that says why. */
  async openOrThrow(runId: string): Promise<never> {
    const run = await this.record(runId);
    if (!run) throw new ExecutionNotFoundError('?', runId);
    if (run.status === 'blocked') throw new VersionMissingError(run.workflowId, run.type, run.version);
    throw new ExecutionClosedError(run.workflowId, run.status);
  }

  closed(execution: Execution): void {
    this.forget(execution);
    const waiters = this.waiters.get(execution.runId);
    this.waiters.delete(execution.runId);
    for (const waiter of waiters ?? []) {
      this.clock.clearTimeout(waiter.timer);
      waiter.resolve(resultOf(execution.run));
    }
  }

  /**
   * Resolves when the run closes. For a run open in memory no store read is needed: its close
   * goes through `closed()`, which this waiter is registered with before any await.
   */
  waitForClose(runId: string, timeoutMs: number | undefined, timeoutError: () => Error): Promise<ExecutionResult> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiters.get(runId) ?? new Set<Waiter>();
      const waiter: Waiter = { resolve, reject };
      if (timeoutMs !== undefined) {
        waiter.timer = this.clock.setTimeout(() => {
          this.removeWaiter(runId, waiters, waiter);
          reject(timeoutError());
        }, timeoutMs);
      }
      waiters.add(waiter);
      this.waiters.set(runId, waiters);
      const live = this.live.get(runId);
      if (live && !live.closed) return;
      // It may have closed between the caller's read and now.
      void this.store.getRun(runId).then((run) => {
        if (run && CLOSED_STATUSES.has(run.status) && this.removeWaiter(runId, waiters, waiter)) {
          this.clock.clearTimeout(waiter.timer);
          resolve(resultOf(run));
        }
      }, () => {});
    });
  }

  /**
   * Takes a waiter out; true if it was there. The run's entry goes with its last waiter: an
   * entry left empty would keep the execution from passivating (see evictIdle) and hold memory
   * for every run ever awaited.
   */
  private removeWaiter(runId: string, waiters: Set<Waiter>, waiter: Waiter): boolean {
    const removed = waiters.delete(waiter);
    if (waiters.size === 0 && this.waiters.get(runId) === waiters) this.waiters.delete(runId);
    return removed;
  }

  evictIdle(): void {
    const cutoff = this.clock.now() - this.idleEvictMs;
    for (const [runId, execution] of this.live) {
      // A blocked execution stays: leaving memory would drop its report, and the next event
      // would retry the step on every load.
      if (execution.idle && execution.lastActiveAt < cutoff && !this.waiters.has(runId) && !execution.blocked) this.forget(execution);
    }
  }

  /** The runs in memory now. */
  loadedRunIds(): string[] {
    return [...this.live.keys()];
  }

  /**
   * Forgets every execution and rejects every waiter with `error`: the shard was lost, and its
   * new owner answers from now on. Nothing is committed (the fence would refuse it).
   */
  dropAll(error: Error): void {
    for (const execution of [...this.live.values()]) this.forget(execution);
    for (const waiters of this.waiters.values()) {
      for (const waiter of waiters) {
        this.clock.clearTimeout(waiter.timer);
        waiter.reject(error);
      }
    }
    this.waiters.clear();
  }

  /** Waits for every event in flight to be committed. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.loading.values()]);
    await Promise.allSettled([...this.live.values()].map((e) => e.settled()));
  }

  private async loadFromStore(runId: string): Promise<Execution | undefined> {
    const run = await this.store.getRun(runId);
    if (!run || CLOSED_STATUSES.has(run.status)) return undefined;
    const definition = this.registry.get(run.type, run.version);
    if (!definition) {
      this.markBlocked(run);
      return undefined;
    }
    const again = this.live.get(runId);
    if (again) return again;
    const snapshot = run.lastSeq === 0 ? undefined : restoreSnapshot(definition.machine, run.snapshot);
    const execution = new Execution(this.host, definition, run, snapshot);
    this.remember(execution);
    return execution;
  }

  private remember(execution: Execution): void {
    this.live.set(execution.runId, execution);
    this.byWorkflow.set(workflowKey(execution.run.namespace, execution.run.workflowId), execution);
  }

  private forget(execution: Execution): void {
    this.live.delete(execution.runId);
    const key = workflowKey(execution.run.namespace, execution.run.workflowId);
    if (this.byWorkflow.get(key) === execution) this.byWorkflow.delete(key);
  }

  private markBlocked(run: RunRecord): RunRecord {
    // Blocked is reported, not stored: the stored run stays exactly as it was, so registering
    // the version again resumes it with nothing to undo.
    return {
      ...run, status: 'blocked',
      blockedReason: `machine "${run.type}" version ${run.version} is not registered; register it to resume this execution`,
    };
  }
}
