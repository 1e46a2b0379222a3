import type { Clock } from '../../common/clock.ts';
import { ExecutionClosedError, PerdureError, VersionMissingError } from '../../common/errors.ts';
import type { OutboxItem, ParentRef } from '../../common/run-model.ts';
import type { HistoryEvent } from '../../common/history.ts';
import type { Store, TimerEntry } from '../../store/store.ts';
import type { EngineObserver } from '../api.ts';
import type { Decision } from '../core/decide.ts';
import type { HistoryLimits } from '../core/history-limits.ts';
import type { WorkflowRegistry } from '../core/registry.ts';
import type { StepLimits } from '../core/step-budget.ts';
import type { ActivityDispatcher } from './activity-dispatcher.ts';
import { actOnCommit } from './commit-effects.ts';
import { ExecutionCache } from './execution-cache.ts';
import type { Execution } from './execution.ts';
import type { NamespaceRegistry } from './namespaces.ts';
import { Outbox, type ChildResult, type OtherRuns } from './outbox.ts';
import { RunLookup } from './run-lookup.ts';
import { RunStarter } from './run-starter.ts';
import { shardStore } from './shard-store.ts';
import type { TaskRouter } from './task-router.ts';
import { TimerService } from './timer-service.ts';

/** The node-wide parts every shard runtime of an engine works with. */
export interface ShardRuntimeDeps {
  store: Store;
  registry: WorkflowRegistry;
  namespaces: NamespaceRegistry;
  clock: Clock;
  dispatcher: ActivityDispatcher;
  router: TaskRouter;
  /** Work that crosses to another run, often in another shard: a child's start or close, a parent told. */
  otherShards: OtherRuns;
  observer?: EngineObserver;
  historyLimits: HistoryLimits;
  maxPayloadBytes: number;
  stepLimits: StepLimits;
  idleEvictMs: number;
}

/**
 * Everything that runs the executions of one shard on this node: their cache, starts, lookup,
 * outbox and durable timers, over a view of the store that stamps each commit with the shard and
 * the epoch it is held at. The engine maps an execution to its shard and calls in here.
 *
 * A shard runtime lives while its node holds the shard: `start` when it is taken (re-dispatching
 * its outstanding activity tasks and arming its timers), `stop` when the node stops or hands it
 * over (letting commits in flight finish), `drop` when it was lost (nothing more is committed:
 * the fence would refuse it anyway, and the shard's new owner carries its executions on).
 */
export class ShardRuntime {
  readonly store: Store;
  readonly executions: ExecutionCache;
  readonly starter: RunStarter;
  readonly runs: RunLookup;
  readonly outbox: Outbox;
  readonly timers: TimerService;

  constructor(readonly shard: number, readonly epoch: number, private readonly deps: ShardRuntimeDeps) {
    const { registry, clock } = deps;
    // Dependency order: the store view, the cache (whose commits act through the timers, which
    // fire through the outbox and the cache), the starter, the outbox, the lookup.
    const store = shardStore(deps.store, shard, epoch);
    this.store = store;
    this.executions = new ExecutionCache(store, registry, clock, {
      historyLimits: deps.historyLimits, maxPayloadBytes: deps.maxPayloadBytes, stepLimits: deps.stepLimits,
      stepStopped: (error) => deps.observer?.stepStopped?.(error),
      afterCommit: (execution, events, decision) => this.afterCommit(execution, events, decision),
    }, deps.idleEvictMs);
    this.timers = new TimerService(store, clock, (entry) => this.fireTimer(entry));
    this.starter = new RunStarter(store, this.executions, registry, clock);
    this.outbox = new Outbox(store, this.executions, deps.otherShards);
    this.runs = new RunLookup(store, this.executions, deps.namespaces, (runId, closedAt) => this.outbox.fire({ runId, id: 'continueAsNew', kind: 'outbox', dueAt: closedAt }));
  }

  /** Re-dispatches the shard's outstanding activity tasks and arms its durable timers. */
  async start(): Promise<void> {
    const runIds = new Set((await this.store.listTasks()).map((task) => task.runId));
    for (const runId of runIds) {
      let execution: Execution | undefined;
      try {
        execution = await this.executions.load(runId);
      } catch (error) {
        // One damaged run must not keep the shard from starting: it reports itself as damaged
        // (RUN_CORRUPTED, HISTORY_CORRUPTED) whenever it is read, and the others run.
        if (isDamagedRun(error)) continue;
        throw error;
      }
      if (execution) this.dispatchPending(execution);
    }
    this.timers.start();
  }

  /** Dispatches an execution's pending activities and arms its timers and outbox items (after a reset made it). */
  arm(execution: Execution): void {
    this.dispatchPending(execution);
    for (const timer of Object.values(execution.run.timers)) this.timers.notify(timer.dueAt);
    for (const item of Object.values(execution.run.outbox ?? {})) this.timers.notify(item.dueAt);
  }

  /** Cancels or terminates a parent's child in this shard: the run named, or the run its chain continued as. */
  async closeChild(item: Extract<OutboxItem, { kind: 'closeChild' }>): Promise<void> {
    for (let runId: string | undefined = item.runId; runId !== undefined; runId = await this.successorOf(runId)) {
      const child = await this.executions.load(runId);
      if (!child) continue; // closed (perhaps continued as new), or never started
      try {
        if (item.action === 'terminate') await child.terminate(item.reason);
        else await child.cancel(item.reason);
        return;
      } catch (error) {
        if (!(error instanceof ExecutionClosedError)) throw error;
      }
    }
  }

  /** Tells a parent in this shard that its child closed (a parent that stopped waiting ignores it). */
  async childClosed(parent: ParentRef, childRunId: string, result: ChildResult): Promise<void> {
    const execution = await this.executions.load(parent.runId);
    if (!execution) {
      // A parent blocked on a missing machine version is still waiting: tell it once it is back
      // (the item is retried). A closed parent's close policy has dealt with the child.
      const record = await this.executions.record(parent.runId);
      if (record?.status === 'blocked') throw new VersionMissingError(record.workflowId, record.type, record.version);
      return;
    }
    await execution.childClosed(parent.childId, childRunId, result);
  }

  /** The run `runId` continued as (started now if the outbox has not yet: idempotent), or undefined. */
  private async successorOf(runId: string): Promise<string | undefined> {
    const run = await this.store.getRun(runId);
    if (run?.status !== 'continuedAsNew' || !run.continuedAs) return undefined; // closed for good, or never started
    const handOver = run.outbox?.continueAsNew;
    if (handOver?.kind === 'continueAsNew') await this.starter.startContinued(run, handOver);
    return run.continuedAs;
  }

  evictIdle(): void {
    this.executions.evictIdle();
  }

  /** Stops the timers and waits for every commit in flight (a stop, or a hand-over). */
  async stop(): Promise<void> {
    this.timers.stop();
    await this.executions.drain();
    this.forgetTasks();
  }

  /**
   * After a hand-over's stop(): forget the executions and answer their waiters (a client's
   * result() on this node) SHARD_NOT_HELD, so they ask again and reach the new owner. Without
   * this a waiter of a handed-over shard heard nothing until its own wait ran out (up to 30 s
   * per result() poll): the run closes on the new owner, whose cache this waiter is not in.
   */
  forgetHandedOver(): void {
    this.executions.dropAll(new PerdureError('SHARD_NOT_HELD', `shard ${this.shard} was handed over to another node: retry, the cluster routes the call to its owner.`));
  }

  /** The shard was lost: stop at once; what is in flight is refused by the fence. */
  drop(): void {
    this.timers.stop();
    this.forgetTasks();
    this.executions.dropAll(new PerdureError('SHARD_NOT_HELD', `shard ${this.shard} was taken by another node: retry, the cluster routes the call to its owner.`));
  }

  private dispatchPending(execution: Execution): void {
    this.deps.router.dispatchPending(this.shard, execution, Object.keys(execution.run.activities));
  }

  /**
   * The attempts in flight stay with their workers, whose reports go to the shard's next owner:
   * a graceful hand-over, or a lost shard, runs no attempt again (see ActivityDispatcher.forgetRun).
   */
  private forgetTasks(): void {
    for (const runId of this.executions.loadedRunIds()) this.deps.dispatcher.forgetRun(runId);
  }

  private async fireTimer(entry: TimerEntry): Promise<void> {
    if (entry.kind === 'outbox') return this.outbox.fire(entry);
    const execution = await this.executions.load(entry.runId);
    if (!execution) throw new PerdureError('INTERNAL', `run ${entry.runId} cannot take its timer now (not loaded: blocked, or gone): the timer is tried again.`);
    await execution.timerFired(entry.id);
  }

  private afterCommit(execution: Execution, events: HistoryEvent[], decision: Decision | undefined): void {
    actOnCommit(execution, events, decision?.sideEffects ?? [], {
      shard: this.shard, dispatcher: this.deps.dispatcher, router: this.deps.router, timers: this.timers, executions: this.executions,
      observer: this.deps.observer, historyLimits: this.deps.historyLimits,
    });
  }
}

function isDamagedRun(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'RUN_CORRUPTED' || code === 'HISTORY_CORRUPTED';
}
