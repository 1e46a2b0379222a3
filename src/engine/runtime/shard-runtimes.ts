import { ShardNotHeldError } from '../../common/errors.ts';
import type { OutboxItem, ParentRef, PendingChild, RunRecord } from '../../common/run-model.ts';
import type { ShardChange, ShardOwnership } from '../../store/shard-ownership.ts';
import type { ChildResult, OtherRuns } from './outbox.ts';
import { ShardRuntime, type ShardRuntimeDeps } from './shard-runtime.ts';

/**
 * The shard runtimes of one node, one per shard it holds, and the map from an execution to its
 * shard. It follows the store's shard ownership: a shard gained gets a runtime (started: its
 * tasks re-dispatched, its timers armed), a shard lost has its runtime dropped. On LevelDB that
 * is one runtime for the one shard, for the life of the engine.
 *
 * It is also how a shard reaches another (a parent starting a child, a child telling its
 * parent): those go through the runtime of the other execution's shard.
 */
/**
 * The work of one shard that must be done in a shard another node holds: the same calls as
 * OtherRuns, sent to that node (src/cluster). Absent on a single node, where every shard is here.
 */
export interface OtherNodes {
  startChild(shard: number, parent: Pick<RunRecord, 'namespace' | 'workflowId' | 'runId'>, child: PendingChild): Promise<void>;
  closeChild(shard: number, namespace: string, item: Extract<OutboxItem, { kind: 'closeChild' }>): Promise<void>;
  childClosed(shard: number, parent: ParentRef, childRunId: string, result: ChildResult): Promise<void>;
}

export class ShardRuntimes implements OtherRuns {
  private readonly runtimes = new Map<number, ShardRuntime>();
  private unsubscribe?: () => void;
  private stopped = false;
  /** Takes and drops one after another, in the order the store told of them. */
  private changes: Promise<void> = Promise.resolve();

  constructor(
    private readonly ownership: ShardOwnership,
    private readonly deps: Omit<ShardRuntimeDeps, 'otherShards'>,
    /** Told when taking or dropping a shard failed (the store is failing): the shard is retried on the next change. */
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Takes every shard held now, then follows the changes. */
  async start(): Promise<void> {
    // A shard given up on purpose is drained first: its commits in flight finish, its timers stop.
    this.ownership.onHandOver?.((shards) => this.handOver(shards));
    this.unsubscribe = this.ownership.subscribe((change) => {
      this.changes = this.changes.then(() => this.apply(change)).catch(this.onError);
    });
    await this.apply({ gained: [...this.ownership.held().keys()], lost: [] });
  }

  /** The runtime of the shard `workflowId` is in; ShardNotHeldError when this node does not hold it. */
  of(namespace: string, workflowId: string): ShardRuntime {
    const shard = this.ownership.shardOf(namespace, workflowId);
    const runtime = this.runtimes.get(shard);
    if (!runtime) throw new ShardNotHeldError(shard);
    return runtime;
  }

  /** The runtime of `shard`, or undefined when this node does not hold it. */
  get(shard: number): ShardRuntime | undefined {
    return this.runtimes.get(shard);
  }

  all(): ShardRuntime[] {
    return [...this.runtimes.values()];
  }

  /** Set by a cluster node: where work for the shards of other nodes goes. */
  otherNodes?: OtherNodes;

  /**
   * The same work, done only in the shards this node holds: what another node sends here. A shard
   * this node does not hold (any more) is SHARD_NOT_HELD, never sent on: the sender asks the
   * database again who holds it, so a call cannot go round between nodes.
   */
  readonly held: OtherRuns = {
    startChild: (parent, child) => this.of(parent.namespace, child.workflowId).starter.startChild(parent, child),
    continueAsNew: (from, item) => this.continueAsNew(from, item),
    closeChild: async (namespace, item) => this.of(namespace, item.workflowId).closeChild(item),
    childClosed: async (parent, childRunId, result) => this.of(parent.namespace, parent.workflowId).childClosed(parent, childRunId, result),
  };

  startChild(parent: Pick<RunRecord, 'namespace' | 'workflowId' | 'runId'>, child: PendingChild): Promise<void> {
    return this.here(parent.namespace, child.workflowId,
      (runtime) => runtime.starter.startChild(parent, child), (nodes, shard) => nodes.startChild(shard, parent, child));
  }

  closeChild(namespace: string, item: Extract<OutboxItem, { kind: 'closeChild' }>): Promise<void> {
    return this.here(namespace, item.workflowId, (runtime) => runtime.closeChild(item), (nodes, shard) => nodes.closeChild(shard, namespace, item));
  }

  childClosed(parent: ParentRef, childRunId: string, result: ChildResult): Promise<void> {
    return this.here(parent.namespace, parent.workflowId,
      (runtime) => runtime.childClosed(parent, childRunId, result), (nodes, shard) => nodes.childClosed(shard, parent, childRunId, result));
  }

  continueAsNew(from: RunRecord, item: Extract<OutboxItem, { kind: 'continueAsNew' }>): Promise<void> {
    return this.of(from.namespace, from.workflowId).starter.startContinued(from, item);
  }

  /**
   * Runs `local` in the runtime of the shard `workflowId` is in, or `remote` on the node that
   * holds it. With no other nodes to send it to, a shard not held is SHARD_NOT_HELD: the outbox
   * item that asked for it is tried again.
   */
  private here<T>(namespace: string, workflowId: string, local: (runtime: ShardRuntime) => Promise<T>, remote: (nodes: OtherNodes, shard: number) => Promise<T>): Promise<T> {
    const shard = this.ownership.shardOf(namespace, workflowId);
    const runtime = this.runtimes.get(shard);
    if (runtime) return local(runtime);
    if (this.otherNodes) return remote(this.otherNodes, shard);
    return Promise.reject(new ShardNotHeldError(shard));
  }

  /** Stops following the store and stops every runtime, letting commits in flight finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.changes;
    await Promise.all(this.all().map((runtime) => runtime.stop()));
    this.runtimes.clear();
  }

  /** Stops the runtimes of shards this node is about to give up, letting their commits finish. */
  private async handOver(shards: number[]): Promise<void> {
    await Promise.all(shards.map(async (shard) => {
      const runtime = this.runtimes.get(shard);
      this.runtimes.delete(shard);
      await runtime?.stop();
      runtime?.forgetHandedOver();
    }));
  }

  private async apply(change: ShardChange): Promise<void> {
    if (this.stopped) return;
    for (const shard of change.lost) {
      this.runtimes.get(shard)?.drop();
      this.runtimes.delete(shard);
    }
    const held = this.ownership.held();
    const started: Promise<void>[] = [];
    for (const shard of change.gained) {
      const epoch = held.get(shard);
      if (epoch === undefined || this.runtimes.get(shard)?.epoch === epoch) continue;
      this.runtimes.get(shard)?.drop(); // held again at a newer epoch: what the old runtime had in memory is stale
      const runtime = new ShardRuntime(shard, epoch, { ...this.deps, otherShards: this });
      this.runtimes.set(shard, runtime);
      started.push(runtime.start());
    }
    await Promise.all(started);
  }
}
