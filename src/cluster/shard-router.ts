import { ShardNotHeldError } from '../common/errors.ts';
import type { ClientOp } from '../common/wire.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { PeerCaller } from './node-peers.ts';

/** A call of one client operation on the node that holds the shard. */
export type OwnerCall = (op: ClientOp, args: Record<string, unknown>) => Promise<unknown>;

export interface ShardRouterOptions {
  /** How long a call waits for a shard without an owner (being handed over) to be taken. Default 15 s: a lease and a heartbeat. */
  handOverWaitMs?: number;
}

/**
 * Runs a call on the node that holds a shard: here when this node's service accepts it, and on
 * the owner, through a peer connection, when this node's service refuses it with SHARD_NOT_HELD.
 * A shard between owners (or one this node holds but has not loaded yet) is waited for, up to
 * `handOverWaitMs`; then the call fails with SHARD_NOT_HELD, which is retryable.
 *
 * The same loop as ClusterService's for executions, for the schedules (cluster-schedules.ts).
 *
 * @example
 * const router = new ShardRouter(ownership, peers);
 * await router.route('default', () => local.describe(ref), (call) => call('describeSchedule', { scheduleId }));
 */
export class ShardRouter {
  private readonly handOverWaitMs: number;

  constructor(private readonly ownership: ShardOwnership, private readonly peers: PeerCaller, options: ShardRouterOptions = {}) {
    this.handOverWaitMs = options.handOverWaitMs ?? 15_000;
  }

  /**
   * `here` runs first; when it throws SHARD_NOT_HELD, the owner runs `there`. `retryable` says
   * which errors of the owner mean "not applied, ask again who holds the shard".
   */
  async route<T>(namespace: string, here: () => Promise<T>, there: (call: OwnerCall) => Promise<T>, retryable: (error: unknown) => boolean): Promise<T> {
    const deadline = Date.now() + this.handOverWaitMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1_000)) {
      let notHeld: ShardNotHeldError;
      try {
        return await here();
      } catch (error) {
        if (!(error instanceof ShardNotHeldError)) throw error;
        notHeld = error;
      }
      const owner = await this.ownership.ownerOf(notHeld.shard);
      if (owner && owner.nodeId !== this.ownership.nodeId && owner.address) {
        try {
          return await there((op, args) => this.peers.call(owner.address!, namespace, op, args));
        } catch (error) {
          if (!retryable(error) || Date.now() + pause > deadline) throw error;
        }
      } else if (Date.now() + pause > deadline) {
        throw owner && owner.nodeId !== this.ownership.nodeId ? new ShardNotHeldError(notHeld.shard, owner) : notHeld;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
