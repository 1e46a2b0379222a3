import { ShardNotHeldError } from '../../common/errors.ts';
import type { OutboxItem, PendingChild, RunRecord } from '../../common/run-model.ts';
import type { ShardChange, ShardOwnership } from '../../store/shard-ownership.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { RunMaker } from './outbox.ts';
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
export class ShardRuntimes implements RunMaker {
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

  executionsOf(namespace: string, workflowId: string): ExecutionCache {
    return this.of(namespace, workflowId).executions;
  }

  startChild(parent: RunRecord, child: PendingChild): Promise<void> {
    return this.of(parent.namespace, child.workflowId).starter.startChild(parent, child);
  }

  continueAsNew(from: RunRecord, item: Extract<OutboxItem, { kind: 'continueAsNew' }>): Promise<void> {
    return this.of(from.namespace, from.workflowId).starter.startContinued(from, item);
  }

  /** Stops following the store and stops every runtime, letting commits in flight finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.changes;
    await Promise.all(this.all().map((runtime) => runtime.stop()));
    this.runtimes.clear();
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
