import { randomUUID } from 'node:crypto';
import { DEFAULT_NAMESPACE } from '../common/namespaces.ts';
import { EngineStoppedError, InvalidArgumentError, PerdureError, ShardNotHeldError, TimeoutError } from '../common/errors.ts';
import { CLOSED_STATUSES, type HistoryEvent, type MachineEvent } from '../common/history.ts';
import type { TaskReports, WorkerConnection, WorkerHandlers, WorkerRegistration, WorkerSession, WorkerView } from '../common/worker-protocol.ts';
import { statelyExport } from '../definition/stately-machine.ts';
import type { WorkflowDefinition } from '../definition/workflow.ts';
import type { CountRunsResult, ListRunsPage, Store } from '../store/store.ts';
import { ActivityDispatcher } from './runtime/activity-dispatcher.ts';
import { systemClock, type Clock } from '../common/clock.ts';
import { KeyedQueue } from '../common/keyed-queue.ts';
import type { Execution, QueryResult } from './runtime/execution.ts';
import { LocalActivityRunner } from './runtime/local-activities.ts';
import { WorkflowRegistry } from './core/registry.ts';
import { completionHost, definitionOfTask, TaskRouter } from './runtime/task-router.ts';
import { decodeTaskToken } from './core/task-token.ts';
import { resetRun, type ResetOptions } from './runtime/run-reset.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, validateEvent, validateId, validatePayloadSize } from './core/validate-input.ts';
import { DEFAULT_HISTORY_LIMITS, type HistoryLimits } from './core/history-limits.ts';
import { ShardRuntimes, type OtherNodes } from './runtime/shard-runtimes.ts';
import type { OtherRuns } from './runtime/outbox.ts';
import type { ShardRuntime } from './runtime/shard-runtime.ts';
import { migrateRuns, type MigrateOptions } from './runtime/migration.ts';
import { describeRun, resultOf, type ExecutionDescription, type ExecutionResult } from './core/execution-views.ts';
import type { MigrateResult } from '../common/execution-types.ts';
import { NamespaceRegistry } from './runtime/namespaces.ts';
import { RetentionSweeper, type RetentionOptions } from './runtime/retention-sweeper.ts';
import { resolveStepLimits, type StepLimits } from './core/step-budget.ts';
import type {
  EngineListQuery, EngineObserver, ExecutionRef, ExecutionService, SignalWithStartOptions, StartedRun, StartOptions, WorkflowTypeListing,
} from './api.ts';

export type { EngineListQuery, EngineObserver, ExecutionRef, ExecutionService, SignalWithStartOptions, StartedRun, StartOptions, WorkflowTypeListing };
export type { MigrateOptions, MigrateResult, ResetOptions };

export interface EngineOptions {
  workflows: readonly WorkflowDefinition[];
  /**
   * The store the engine runs on, made by the caller (createServer, the testing kit, a script):
   * a `LevelStore` for the embedded default, a `PostgresStore`, or any store that passes the
   * conformance suite. The engine opens it on start and closes it on stop.
   */
  store: Store;
  clock?: Clock;
  /** Told of every committed step: for metrics and logs. Must not throw or block. */
  observer?: EngineObserver;
  /** How long a disconnected worker may take to report its tasks in flight before they are retried. Default 10 s. */
  workerLostGraceMs?: number;
  /** Open executions idle this long leave memory; they are loaded again on their next event. Default 60 s. */
  idleEvictMs?: number;
  /** How often idle executions are looked for. Default 5 s, or `idleEvictMs` when that is shorter. */
  evictEveryMs?: number;
  /** When to warn about a long history, and when to end a run whose history grew too long. */
  historyLimits?: Partial<HistoryLimits>;
  /** Largest payload (input, event, activity output) accepted, as JSON bytes. Default 2 MiB. */
  maxPayloadBytes?: number;
  /**
   * The limits of one machine step (microsteps, time budget) and whether a step that breaks one
   * or throws blocks the execution (default) or fails it. See docs/workflow-isolation.md.
   */
  stepLimits?: Partial<StepLimits>;
  /** The sweep that deletes closed executions past their namespace's retention (see docs/namespaces.md). */
  retention?: RetentionOptions;
}

/**
 * The durable execution engine: owns every execution of the workflow types it was given, on one
 * store. Embedded in the server; usable directly in tests and scripts.
 *
 * @example
 * const engine = await Engine.start({ workflows: [orderWorkflow], store: new LevelStore({ directory: './.perdure' }) });
 * const worker = Worker.create({ connection: engine, taskQueue: 'orders', activities });
 * void worker.run();
 * const { workflowId } = await engine.start('order', { input: { amount: 42 } });
 * console.log(await engine.result({ workflowId }));
 */
/** How often a node of a cluster reads the namespaces again (a retention changed on another node). */
const NAMESPACE_REFRESH_MS = 2_000;

export class Engine implements WorkerConnection, ExecutionService {
  readonly registry: WorkflowRegistry;
  /** Create, list, describe and update namespaces; every other call checks its namespace here. */
  readonly namespaces: NamespaceRegistry;
  /** Deletes closed executions past their namespace's retention; `sweepNow()` for scripts and tests. */
  readonly retention: RetentionSweeper;
  private readonly dispatcher: ActivityDispatcher;
  private readonly local: LocalActivityRunner;
  /** The runtime of each shard this node holds (on LevelDB: the one shard, always). */
  private readonly shards: ShardRuntimes;
  private readonly maxPayloadBytes: number;
  private readonly migrations = new KeyedQueue();
  private evictTimer?: ReturnType<typeof setInterval>;
  private readonly evictEveryMs: number;
  private stopped = false;

  /**
   * Builds the runtime in dependency order. One edge runs back, through the map of shard
   * runtimes, which is filled after the parts that read it:
   *
   * ```
   * shard runtimes ──commit effects──▶ dispatcher ──tasks──▶ workers
   *       ▲                                │
   *       └──────── completionHost ◀───────┘  (reports find their shard runtime by the token's shard)
   * ```
   */
  private constructor(readonly store: Store, options: EngineOptions, readonly clock: Clock) {
    this.registry = new WorkflowRegistry(options.workflows);
    this.namespaces = new NamespaceRegistry(store, clock);
    this.retention = new RetentionSweeper(store, this.namespaces, clock, options.retention);
    const idleEvictMs = options.idleEvictMs ?? 60_000;
    // A sweep less often than the idle delay would keep executions in memory up to 5 s past it.
    this.evictEveryMs = options.evictEveryMs ?? Math.min(5_000, idleEvictMs);
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const executionsOf = (shard: number) => this.shards.get(shard)?.executions;
    this.dispatcher = new ActivityDispatcher(completionHost(clock, executionsOf), options.workerLostGraceMs);
    this.local = new LocalActivityRunner(this.dispatcher, (task) => definitionOfTask(executionsOf, task));
    const router = new TaskRouter(this.dispatcher, this.local);
    this.shards = new ShardRuntimes(store.shards(), {
      store, registry: this.registry, namespaces: this.namespaces, clock, dispatcher: this.dispatcher, router, observer: options.observer,
      historyLimits: { ...DEFAULT_HISTORY_LIMITS, ...options.historyLimits }, maxPayloadBytes: this.maxPayloadBytes,
      stepLimits: resolveStepLimits(options.stepLimits), idleEvictMs,
    }, (error) => options.observer?.shardFailed?.(error));
  }

  /** Opens the store, re-dispatches outstanding activity tasks and arms durable timers. */
  static async start(options: EngineOptions): Promise<Engine> {
    const store = options.store;
    if (typeof store?.open !== 'function') {
      throw new InvalidArgumentError('Engine.start needs a store: e.g. { store: new LevelStore({ directory: \'./.perdure\' }) } from perdure/server');
    }
    await store.open();
    const engine = new Engine(store, options, options.clock ?? systemClock);
    try {
      await engine.namespaces.load();
      // Other nodes of a cluster create and change namespaces too (one shard: this node alone).
      if (store.shards().shardCount > 1) engine.namespaces.follow(NAMESPACE_REFRESH_MS);
      await engine.recover();
      engine.retention.start();
    } catch (error) {
      await store.close();
      throw error;
    }
    return engine;
  }

  /**
   * Starts an execution; resolves once its start is durable. A taken workflow id is settled by
   * the start's policies (`idReusePolicy` for a closed run, `conflictPolicy` for an open one);
   * `started` is false only when `conflictPolicy: 'useExisting'` returned the open run.
   */
  async start(type: string, options: StartOptions = {}): Promise<StartedRun> {
    const { namespace, workflowId } = this.startTarget(options);
    const definition = this.registry.latest(type);
    return this.shards.of(namespace, workflowId).starter.start(definition, namespace, workflowId, options);
  }

  /**
   * Signals the open run of `workflowId`, or starts one (under the start policies) whose first
   * event after WorkflowStarted is the signal. Serialised with every other start of the id, so a
   * concurrent start cannot leave the signal undelivered, and two racing calls make one run that
   * receives both signals. A repeated idempotency key returns the run it started without
   * signalling again: that run had the signal as its first event.
   *
   * @example
   * const { runId, started } = await engine.signalWithStart('approval', {
   *   workflowId: 'a-1', input: { request: 'laptop', timeoutMs: 60_000 }, event: { type: 'APPROVE', approver: 'ann' },
   * });
   */
  async signalWithStart(type: string, options: SignalWithStartOptions): Promise<StartedRun> {
    if (typeof options !== 'object' || options === null || options.workflowId === undefined) {
      throw new InvalidArgumentError('signalWithStart needs { workflowId, event }: the signal goes to the open run of that workflow id');
    }
    const event = this.validEvent(options.event);
    const { namespace, workflowId } = this.startTarget(options);
    const definition = this.registry.latest(type);
    return this.shards.of(namespace, workflowId).starter.start(definition, namespace, workflowId, options, event);
  }

  /** Sends an event to the machine. History records it even when the current state ignores it. */
  async signal(ref: ExecutionRef, event: MachineEvent): Promise<void> {
    const valid = this.validEvent(event);
    await this.onOpenRun(ref, (execution) => execution.signal(valid));
  }

  /** Sends an event the current state must accept; resolves with the state after it. */
  async update(ref: ExecutionRef, event: MachineEvent): Promise<QueryResult> {
    const valid = this.validEvent(event);
    return this.onOpenRun(ref, (execution) => execution.update(valid, randomUUID()));
  }

  /** Requests cancellation: the machine may handle `perdure.cancel`; otherwise it ends Canceled. */
  async cancel(ref: ExecutionRef, reason = 'cancel requested'): Promise<void> {
    await this.onOpenRun(ref, (execution) => execution.cancel(String(reason)));
  }

  /** Ends the execution at once; the machine takes no further step. */
  async terminate(ref: ExecutionRef, reason = 'terminated'): Promise<void> {
    await this.onOpenRun(ref, (execution) => execution.terminate(String(reason)));
  }

  /**
   * Resets an execution to the state after its event #`eventSeq` (like Temporal's reset): the
   * current run is terminated (if open) with a reason naming the new run, and a new run of the
   * same workflow id starts from that state — its history repeats the old one up to that step,
   * then records WorkflowReset. Resolves with the new run's id.
   */
  async reset(ref: ExecutionRef, options: ResetOptions): Promise<{ runId: string }> {
    this.assertRunning();
    return resetRun(this.shardOf(ref), this, ref, options);
  }

  /**
   * Moves the open runs of `type` on version `fromVersion` to version `toVersion` (default: the
   * newest registered) with the target definition's migration function for `fromVersion`. Runs
   * on a version no longer registered (blocked) can be moved too. Each run moves on its own: a
   * run whose state the migration cannot map is reported and left as it was.
   *
   * @example
   * // workflow(orderMachineV2, { migrations: { '3f2a…': ({ value, context }) => ({ value, context: { ...context, currency: 'EUR' } }) } })
   * const { migrated, failed } = await engine.migrate({ type: 'order', fromVersion: '3f2a…' });
   */
  async migrate(options: MigrateOptions): Promise<MigrateResult> {
    this.assertRunning();
    const namespace = validateId(options.namespace ?? DEFAULT_NAMESPACE, 'namespace');
    this.namespaces.require(namespace);
    const executionsOf = (ns: string, workflowId: string) => this.shards.get(this.store.shards().shardOf(ns, workflowId))?.executions;
    return migrateRuns({ store: this.store, registry: this.registry, executionsOf, queue: this.migrations }, namespace, options);
  }


  async query(ref: ExecutionRef): Promise<QueryResult> {
    const { executions, runs } = this.shardOf(ref);
    const runId = await runs.runIdOf(ref);
    const execution = (await executions.load(runId)) ?? (await executions.readOnly(runId));
    if (execution) return execution.query();
    const run = (await executions.record(runId))!;
    return { status: run.status, value: null, context: null, tags: [], accepts: [] };
  }

  async describe(ref: ExecutionRef): Promise<ExecutionDescription> {
    const { executions, runs } = this.shardOf(ref);
    const run = (await executions.record(await runs.runIdOf(ref)))!;
    return describeRun(run);
  }

  /**
   * Waits until the execution closes (or `timeoutMs` passes: TimeoutError). A run that continued
   * as new is followed to the run that ends the chain, as Temporal's result does.
   */
  async result(ref: ExecutionRef, options: { timeoutMs?: number } = {}): Promise<ExecutionResult> {
    const deadline = options.timeoutMs === undefined ? undefined : this.clock.now() + options.timeoutMs;
    const timeout = () => new TimeoutError(`execution "${ref.workflowId}" did not close within ${options.timeoutMs} ms`);
    // Every run of a chain has the same workflow id, so the same shard.
    const { executions, runs } = this.shardOf(ref);
    for (let runId = await runs.runIdOf(ref); ;) {
      const run = await executions.record(runId);
      let result: ExecutionResult;
      if (run && CLOSED_STATUSES.has(run.status)) result = resultOf(run);
      else result = await executions.waitForClose(runId, deadline === undefined ? undefined : Math.max(0, deadline - this.clock.now()), timeout);
      if (result.status !== 'continuedAsNew' || !result.continuedAs) return result;
      runId = result.continuedAs;
    }
  }

  async history(ref: ExecutionRef): Promise<HistoryEvent[]> {
    return this.store.readHistory(await this.shardOf(ref).runs.runIdOf(ref));
  }

  /**
   * A page of runs, newest first. `searchAttributes` filters are read by the declared types:
   * `{ amount: { gte: '10' } }` (text, as a query string carries it) is the number 10.
   */
  async list(query: EngineListQuery = {}): Promise<ListRunsPage> {
    this.namespaces.require(query.namespace ?? DEFAULT_NAMESPACE);
    const searchAttributes = this.registry.searchAttributes.filters(query.searchAttributes);
    return this.store.listRuns({ ...query, namespace: query.namespace ?? DEFAULT_NAMESPACE, searchAttributes });
  }

  /** How many runs match the filters of a listing (`limit` and `pageToken` are ignored). */
  async count(query: EngineListQuery = {}): Promise<CountRunsResult> {
    this.namespaces.require(query.namespace ?? DEFAULT_NAMESPACE);
    const searchAttributes = this.registry.searchAttributes.filters(query.searchAttributes);
    return this.store.countRuns({ ...query, namespace: query.namespace ?? DEFAULT_NAMESPACE, searchAttributes });
  }

  /**
   * Registered workflow types, each version with its machine definition (`toJSON()`, which the
   * UI draws), its export for Stately and plain XState (a config `createMachine` loads, and the
   * named delays as values), and its search attribute types.
   */
  workflowTypes(): WorkflowTypeListing[] {
    return this.registry.types().map(({ type, versions }) => ({
      type,
      versions: versions.map((version) => {
        const definition = this.registry.get(type, version)!;
        const searchAttributes = Object.fromEntries(Object.entries(definition.searchAttributes).map(([name, d]) => [name, d.type]));
        return { version, definition: JSON.parse(JSON.stringify(definition.machine)) as unknown, stately: statelyExport(definition.machine), searchAttributes };
      }),
    }));
  }

  /** In-process worker connection: the same contract the WebSocket hub serves. */
  workers(namespace?: string): WorkerView[] {
    return this.dispatcher.workers(namespace);
  }

  /** The work other nodes of a cluster send this one for its shards (a child's start, a parent told): done here only. */
  get crossShardWork(): OtherRuns {
    return this.shards.held;
  }

  /**
   * Worker reports another node of the cluster forwarded here (see TaskReports): run only for a
   * shard this node holds; any other is SHARD_NOT_HELD (retryable: the sender asks again who
   * holds it), never forwarded on.
   */
  get reportsFromOtherNodes(): TaskReports {
    const held = (token: string) => {
      const { shard } = decodeTaskToken(token);
      if (!this.shards.get(shard)) throw new ShardNotHeldError(shard);
    };
    const reports = this.dispatcher.elsewhere;
    return {
      complete: async (token, output) => (held(token), reports.complete(token, output)),
      fail: async (token, failure) => (held(token), reports.fail(token, failure)),
      heartbeat: async (token, details) => (held(token), reports.heartbeat(token, details)),
    };
  }

  /** Where the work of this node's shards for the shards of other nodes goes (src/cluster sets it). */
  sendOtherNodesWorkTo(nodes: OtherNodes): void {
    this.shards.otherNodes = nodes;
  }

  definition(type: string, version: string): WorkflowDefinition | undefined {
    return this.registry.get(type, version);
  }

  storeFailure(): PerdureError | undefined {
    return this.store.failure?.();
  }

  lookUpNamespace(name: string): Promise<void> | undefined {
    return this.namespaces.knows(name) ? undefined : this.namespaces.lookUp(name);
  }

  openSession(registration: WorkerRegistration, handlers: WorkerHandlers): WorkerSession {
    this.assertRunning();
    // A malformed registration is the dispatcher's to refuse (INVALID_ARGUMENT); a well-formed one needs its namespace.
    if (typeof registration?.namespace === 'string') this.namespaces.require(registration.namespace);
    return this.dispatcher.openSession(registration, handlers);
  }

  /** Stops taking work, lets commits in flight finish, and closes the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.evictTimer) clearInterval(this.evictTimer);
    this.namespaces.stop();
    await this.retention.stop();
    this.local.close();
    await this.shards.stop();
    this.dispatcher.stop();
    await this.store.close();
  }

  private async recover(): Promise<void> {
    await this.shards.start();
    this.evictTimer = setInterval(() => {
      for (const shard of this.shards.all()) shard.evictIdle();
    }, this.evictEveryMs);
    this.evictTimer.unref();
  }

  private validEvent(event: unknown): MachineEvent {
    const valid = validateEvent(event);
    validatePayloadSize(valid, 'event', this.maxPayloadBytes);
    return valid;
  }

  private startTarget(options: StartOptions): { namespace: string; workflowId: string } {
    this.assertRunning();
    const namespace = validateId(options.namespace ?? DEFAULT_NAMESPACE, 'namespace');
    this.namespaces.require(namespace);
    const workflowId = validateId(options.workflowId ?? randomUUID(), 'workflowId');
    if (options.idempotencyKey !== undefined) validateId(options.idempotencyKey, 'idempotencyKey');
    validatePayloadSize(options.input, 'input', this.maxPayloadBytes);
    return { namespace, workflowId };
  }

  private onOpenRun<T>(ref: ExecutionRef, call: (execution: Execution) => Promise<T>): Promise<T> {
    return this.shardOf(ref).runs.onOpenRun(ref, call);
  }

  /** The runtime of the shard `ref`'s workflow id is in; its ids are checked here, once. */
  private shardOf(ref: ExecutionRef): ShardRuntime {
    this.assertRunning();
    if (typeof ref !== 'object' || ref === null) throw new InvalidArgumentError('pass an execution as { workflowId, runId? }');
    const namespace = validateId(ref.namespace ?? DEFAULT_NAMESPACE, 'namespace');
    this.namespaces.require(namespace);
    return this.shards.of(namespace, validateId(ref.workflowId, 'workflowId'));
  }

  private assertRunning(): void {
    if (this.stopped) throw new EngineStoppedError();
  }
}

export { PerdureError };
