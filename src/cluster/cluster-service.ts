import { randomUUID } from 'node:crypto';
import { PerdureError, ShardNotHeldError } from '../common/errors.ts';
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

export interface ClusterServiceOptions {
  /** How long a call waits for a shard without an owner (being handed over) to be taken. Default 15 s: a lease and a heartbeat. */
  handOverWaitMs?: number;
}

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
  private readonly handOverWaitMs: number;

  constructor(
    private readonly local: ExecutionService,
    private readonly ownership: ShardOwnership,
    private readonly peers: PeerCaller,
    options: ClusterServiceOptions = {},
  ) {
    this.handOverWaitMs = options.handOverWaitMs ?? 15_000;
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
    return this.route(ref, (s) => s.reset(ref, options), async (call) => ({ runId: ((await call('reset', { ...strip(ref), ...options })) as { runId: string }).runId }));
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
   * `there` against that node instead. A shard with no owner is waited for (a hand-over).
   */
  private async route<T>(
    ref: { namespace?: string; workflowId?: string },
    here: (service: ExecutionService) => Promise<T>,
    there: (call: (op: ClientOp, args: Record<string, unknown>) => Promise<unknown>) => Promise<T>,
  ): Promise<T> {
    const namespace = ref.namespace ?? DEFAULT_NAMESPACE;
    // A namespace another node made since this one read them is read now.
    await this.local.namespaces.lookUp(namespace);
    const deadline = Date.now() + this.handOverWaitMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1_000)) {
      let notHeld: ShardNotHeldError;
      try {
        return await here(this.local);
      } catch (error) {
        if (!(error instanceof ShardNotHeldError)) throw error;
        notHeld = error;
      }
      const owner = await this.ownership.ownerOf(notHeld.shard);
      if (owner && owner.nodeId !== this.ownership.nodeId && owner.address) {
        try {
          return await there((op, args) => this.peers.call(owner.address!, namespace, op, args));
        } catch (error) {
          // The owner let go of the shard meanwhile, or cannot be reached: ask again who holds it.
          if (!isRetryableOnAnotherNode(error)) throw error;
          if (Date.now() + pause > deadline) throw error;
        }
      } else if (Date.now() + pause > deadline) {
        throw owner && owner.nodeId !== this.ownership.nodeId ? new ShardNotHeldError(notHeld.shard, owner) : notHeld;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function isRetryableOnAnotherNode(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  // Each of these says the call was not applied: the node refused it before doing anything, or
  // it was never sent. A lost connection after sending is relayed, not retried: the call may
  // have been applied, and a second signal would be a second event.
  return code === 'SHARD_NOT_HELD' || code === 'SHARD_OWNERSHIP_LOST' || code === 'ENGINE_STOPPED';
}

/** The fields of a ref or options that go on the wire: the namespace travels in the hello. */
function strip<T extends { namespace?: string }>(value: T): Record<string, unknown> {
  const { namespace: _namespace, ...rest } = value;
  return rest as Record<string, unknown>;
}
