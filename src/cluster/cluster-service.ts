import { randomUUID } from 'node:crypto';
import { PerdureError, ShardNotHeldError, ShardOwnershipLostError } from '../common/errors.ts';
import type { ExecutionDescription, ExecutionResult, MigrateResult, QueryResult } from '../common/execution-types.ts';
import type { HistoryEvent, MachineEvent } from '../common/history.ts';
import { DEFAULT_NAMESPACE } from '../common/namespaces.ts';
import type { ClientOp } from '../common/wire.ts';
import type { WorkerView } from '../common/worker-protocol.ts';
import type { WorkflowDefinition } from '../definition/workflow.ts';
import type {
  EngineListQuery, ExecutionRef, ExecutionService, SignalWithStartOptions, StartedRun, StartOptions, WorkflowTypeListing,
} from '../engine/api.ts';
import type { MigrateOptions } from '../engine/runtime/migration.ts';
import type { NamespaceRegistry } from '../engine/runtime/namespaces.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { CountRunsResult, ListRunsPage } from '../store/store.ts';
import type { PeerCaller } from './node-peers.ts';
import { ShardRouter, type OwnerCall, type ShardRouterOptions } from './shard-router.ts';

export type ClusterServiceOptions = ShardRouterOptions;

/**
 * The executions of the whole cluster, as one service: a call on an execution runs on this node
 * when it holds the execution's shard, and is forwarded to the node that holds it otherwise,
 * whose answer (or error) is relayed as it came. Listings, counts and everything else are read
 * here: every node reads the same database.
 *
 * A shard between owners (its node stopped or was lost, and no node has taken it yet) is waited
 * for, up to `handOverWaitMs`; then the call fails with SHARD_NOT_HELD, which is retryable. A
 * forwarded call is run by the receiving node on its own engine, never forwarded again.
 */
export class ClusterService implements ExecutionService {
  private readonly router: ShardRouter;

  constructor(
    private readonly local: ExecutionService,
    ownership: ShardOwnership,
    peers: PeerCaller,
    options: ClusterServiceOptions = {},
  ) {
    this.router = new ShardRouter(ownership, peers, options);
  }

  get namespaces(): NamespaceRegistry {
    return this.local.namespaces;
  }

  start(type: string, options: StartOptions = {}): Promise<StartedRun> {
    // The workflow id decides the shard, so it is chosen here, before the call goes anywhere.
    const routed = { ...options, workflowId: options.workflowId ?? randomUUID() };
    return this.route(routed, (s) => s.start(type, routed), (call) => call('start', { ...strip(routed), type }) as Promise<StartedRun>);
  }

  signalWithStart(type: string, options: SignalWithStartOptions): Promise<StartedRun> {
    return this.route(options, (s) => s.signalWithStart(type, options), (call) => call('signalWithStart', { ...strip(options), type }) as Promise<StartedRun>);
  }

  signal(ref: ExecutionRef, event: MachineEvent): Promise<void> {
    return this.route(ref, (s) => s.signal(ref, event), async (call) => void (await call('signal', { ...strip(ref), event })));
  }

  update(ref: ExecutionRef, event: MachineEvent): Promise<QueryResult> {
    return this.route(ref, (s) => s.update(ref, event), (call) => call('update', { ...strip(ref), event }) as Promise<QueryResult>);
  }

  cancel(ref: ExecutionRef, reason?: string): Promise<void> {
    return this.route(ref, (s) => s.cancel(ref, reason), async (call) => void (await call('cancel', { ...strip(ref), reason })));
  }

  terminate(ref: ExecutionRef, reason?: string): Promise<void> {
    return this.route(ref, (s) => s.terminate(ref, reason), async (call) => void (await call('terminate', { ...strip(ref), reason })));
  }

  reset(ref: ExecutionRef, options: { eventSeq: number; reason?: string }): Promise<{ runId: string }> {
    // Not sent on after SHARD_OWNERSHIP_LOST: a reset is two commits, and the first (the old
    // run's termination) may be in.
    return this.route(
      ref, (s) => s.reset(ref, options),
      async (call) => ({ runId: ((await call('reset', { ...strip(ref), ...options })) as { runId: string }).runId }),
      { resendAfterLost: false },
    );
  }

  query(ref: ExecutionRef): Promise<QueryResult> {
    return this.route(ref, (s) => s.query(ref), (call) => call('query', strip(ref)) as Promise<QueryResult>);
  }

  async describe(ref: ExecutionRef): Promise<ExecutionDescription> {
    return this.route(ref, (s) => s.describe(ref), async (call) => {
      // The wire's describe answers the description with the current state beside it.
      const { state: _state, ...description } = (await call('describe', strip(ref))) as ExecutionDescription & { state?: unknown };
      return description;
    });
  }

  result(ref: ExecutionRef, options: { timeoutMs?: number } = {}): Promise<ExecutionResult> {
    return this.route(ref, (s) => s.result(ref, options), (call) => call('result', { ...strip(ref), timeoutMs: options.timeoutMs }) as Promise<ExecutionResult>);
  }

  history(ref: ExecutionRef): Promise<HistoryEvent[]> {
    return this.route(ref, (s) => s.history(ref), async (call) => ((await call('history', strip(ref))) as { events: HistoryEvent[] }).events);
  }

  migrate(options: MigrateOptions): Promise<MigrateResult> {
    return this.local.migrate(options);
  }

  async list(query?: EngineListQuery): Promise<ListRunsPage> {
    await this.local.namespaces.lookUp(query?.namespace ?? DEFAULT_NAMESPACE);
    return this.local.list(query);
  }

  async count(query?: EngineListQuery): Promise<CountRunsResult> {
    await this.local.namespaces.lookUp(query?.namespace ?? DEFAULT_NAMESPACE);
    return this.local.count(query);
  }

  workflowTypes(): WorkflowTypeListing[] {
    return this.local.workflowTypes();
  }

  definition(type: string, version: string): WorkflowDefinition | undefined {
    return this.local.definition(type, version);
  }

  workers(namespace?: string): WorkerView[] {
    return this.local.workers(namespace);
  }

  storeFailure(): PerdureError | undefined {
    return this.local.storeFailure();
  }

  /**
   * Runs `here` on this node's engine; when the execution's shard is another node's, runs
   * `there` against that node instead. A shard with no owner is waited for (a hand-over). A
   * local call refused by the fence (SHARD_OWNERSHIP_LOST: this node lost the shard under it,
   * and nothing of the call was written) goes to the new owner too, but for a reset.
   */
  private async route<T>(
    ref: { namespace?: string; workflowId?: string },
    here: (service: ExecutionService) => Promise<T>,
    there: (call: OwnerCall) => Promise<T>,
    { resendAfterLost = true }: { resendAfterLost?: boolean } = {},
  ): Promise<T> {
    const namespace = ref.namespace ?? DEFAULT_NAMESPACE;
    // A namespace another node made since this one read them is read now.
    await this.local.namespaces.lookUp(namespace);
    const local = async () => {
      try {
        return await here(this.local);
      } catch (error) {
        if (error instanceof ShardOwnershipLostError && resendAfterLost) throw new ShardNotHeldError(error.shard);
        throw error;
      }
    };
    return this.router.route(namespace, local, there, resendAfterLost ? isRetryableOnAnotherNode : isNotHeld);
  }
}

function isRetryableOnAnotherNode(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  // Each of these says the call was not applied: the node refused it before doing anything, or
  // it was never sent. A lost connection after sending is relayed, not retried: the call may
  // have been applied, and a second signal would be a second event.
  return code === 'SHARD_NOT_HELD' || code === 'SHARD_OWNERSHIP_LOST' || code === 'ENGINE_STOPPED';
}

/** Refused before anything was done: the only retry a call of two commits (a reset) allows. */
function isNotHeld(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'SHARD_NOT_HELD';
}

/** The fields of a ref or options that go on the wire: the namespace travels in the hello. */
function strip<T extends { namespace?: string }>(value: T): Record<string, unknown> {
  const { namespace: _namespace, ...rest } = value;
  return rest as Record<string, unknown>;
}
