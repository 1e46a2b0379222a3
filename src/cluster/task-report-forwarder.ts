import { ForbiddenError, ShardNotHeldError } from '../common/errors.ts';
import type { FailureInfo } from '../common/failures.ts';
import { decodeTaskToken } from '../engine/core/task-token.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { PeerCaller } from './node-peers.ts';

/** One report of a worker, as the hub got it. */
export type TaskReport =
  | { kind: 'complete'; taskToken: string; output: unknown }
  | { kind: 'fail'; taskToken: string; failure: FailureInfo }
  | { kind: 'heartbeat'; taskToken: string; details: unknown };

/**
 * Sends a worker's report on a task of a shard this node does not hold to the node that holds
 * it (`node.taskReport`). A worker reports on the connection it had the task from; it reports
 * here instead when that node is gone (stopped, or lost), and the shard's new owner, which took
 * over the execution, decides: it applies the report if the attempt is still current and refuses
 * a stale token (TASK_TOKEN_STALE) as it would from its own workers.
 *
 * ```
 *  worker            this node                     owner of the token's shard
 *    │── complete ──►│ shard not held here            │
 *    │               │── call node.taskReport ───────►│  applied, or TASK_TOKEN_STALE
 *    │◄── ok/error ──│◄───────────────── ok/error ────│
 * ```
 *
 * A shard between owners is SHARD_NOT_HELD, which the worker sends again a little later.
 */
export class TaskReportForwarder {
  constructor(private readonly ownership: ShardOwnership, private readonly peers: PeerCaller) {}

  /** Undefined when the token's shard is held here (the hub's own session handles it); the owner's answer otherwise. */
  forward(namespace: string, report: TaskReport): Promise<unknown> | undefined {
    let ref: ReturnType<typeof decodeTaskToken>;
    try {
      ref = decodeTaskToken(report.taskToken);
    } catch {
      return undefined; // malformed: the hub's session refuses it (INVALID_ARGUMENT), as on one node
    }
    if (this.ownership.holds(ref.shard)) return undefined; // on every report: no copy of the held map
    // The same invariant as a local session's: a worker reports only tasks of its own namespace.
    if (ref.namespace !== namespace) {
      return Promise.reject(new ForbiddenError(`task token names namespace "${ref.namespace}", but this worker is registered in "${namespace}".`));
    }
    return this.send(ref.namespace, ref.shard, report);
  }

  private async send(namespace: string, shard: number, report: TaskReport): Promise<unknown> {
    const owner = await this.ownership.ownerOf(shard);
    if (!owner || owner.nodeId === this.ownership.nodeId || !owner.address) throw new ShardNotHeldError(shard, owner);
    return this.peers.call(owner.address, namespace, 'node.taskReport', report);
  }
}
