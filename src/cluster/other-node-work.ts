import { ShardNotHeldError } from '../common/errors.ts';
import type { OutboxItem, ParentRef, PendingChild, RunRecord } from '../common/run-model.ts';
import type { NodeOp } from '../common/node-wire.ts';
import type { ChildResult } from '../engine/runtime/outbox.ts';
import type { OtherNodes } from '../engine/runtime/shard-runtimes.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { PeerCaller } from './node-peers.ts';

/**
 * Sends the outbox work of this node's shards that belongs in a shard another node holds (a
 * child's start or close, a parent told its child closed) to that node, as a node operation
 * (common/node-wire.ts). Each is idempotent, and the outbox item that asked for it is removed
 * only once the other node answered: a node that cannot be reached, or that no longer holds the
 * shard, leaves the item to be tried again (SHARD_NOT_HELD).
 */
export class OtherNodeWork implements OtherNodes {
  constructor(private readonly ownership: ShardOwnership, private readonly peers: PeerCaller) {}

  async startChild(shard: number, parent: Pick<RunRecord, 'namespace' | 'workflowId' | 'runId'>, child: PendingChild): Promise<void> {
    await this.send(shard, parent.namespace, 'node.startChild', { parent: { namespace: parent.namespace, workflowId: parent.workflowId, runId: parent.runId }, child });
  }

  async closeChild(shard: number, namespace: string, item: Extract<OutboxItem, { kind: 'closeChild' }>): Promise<void> {
    await this.send(shard, namespace, 'node.closeChild', { namespace, item });
  }

  async childClosed(shard: number, parent: ParentRef, childRunId: string, result: ChildResult): Promise<void> {
    await this.send(shard, parent.namespace, 'node.childClosed', { parent, childRunId, result });
  }

  private async send(shard: number, namespace: string, op: NodeOp, args: Record<string, unknown>): Promise<void> {
    const owner = await this.ownership.ownerOf(shard);
    if (!owner || owner.nodeId === this.ownership.nodeId || !owner.address) throw new ShardNotHeldError(shard, owner);
    await this.peers.call(owner.address, namespace, op, args);
  }
}
