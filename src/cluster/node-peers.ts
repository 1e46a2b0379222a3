import { webSocketUrl } from '../common/address.ts';
import type { ClientOp } from '../common/wire.ts';
import { WsTransport } from '../client/ws-transport.ts';
import { PerdureError } from '../common/errors.ts';
import { ConnectionLostError } from '../sdk-socket/connection-lost.ts';

/** Another node could not be reached, so the call was not sent: safe to send again elsewhere. */
export class PeerUnreachableError extends PerdureError {
  constructor(readonly address: string, cause: unknown) {
    super('SHARD_NOT_HELD', `the node at ${address} that holds the shard cannot be reached (${(cause as Error)?.message ?? String(cause)}): retry; its shards are taken by another node once its lease runs out.`, { cause });
  }
}

/** Peer connections say who they are with this identity prefix: a forwarded call is never forwarded again. */
export const NODE_IDENTITY_PREFIX = 'perdure-node:';

/** One call to another node: the client operation, in a namespace, as a client would send it. */
export interface PeerCaller {
  call(address: string, namespace: string, op: ClientOp, args: Record<string, unknown>): Promise<unknown>;
}

/**
 * The connections of this node to the other nodes of the cluster, over the same WebSocket
 * protocol a client speaks (node-to-node calls are client calls, authenticated with the cluster
 * token): one per node address and namespace, opened on first use and kept.
 */
export class NodePeers implements PeerCaller {
  private readonly transports = new Map<string, Promise<WsTransport>>();
  private closed = false;

  constructor(private readonly options: { nodeId: string; token?: string }) {}

  async call(address: string, namespace: string, op: ClientOp, args: Record<string, unknown>): Promise<unknown> {
    let transport: WsTransport;
    try {
      transport = await this.transport(address, namespace);
    } catch (error) {
      // Nothing was sent: the caller may ask the database who holds the shard and try again
      // (a node that was lost holds its shards until its lease runs out).
      throw new PeerUnreachableError(address, error);
    }
    // A call waits for a lost connection no longer than a hand-over takes: the caller asks the
    // database who holds the shard now, which may be another node.
    try {
      return await transport.call(op, args, {}, { waitMs: 2_000 });
    } catch (error) {
      // Not connected, and the call never left this node (the node died since the connection
      // was made): as safe to send elsewhere as a node never reached. Once sent, a lost
      // connection is relayed as it is: the call may have been applied.
      if (error instanceof ConnectionLostError && !error.sent) throw new PeerUnreachableError(address, error);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(all.map(async (opening) => (await opening.catch(() => undefined))?.close()));
  }

  private transport(address: string, namespace: string): Promise<WsTransport> {
    if (this.closed) return Promise.reject(new Error('the node is stopping'));
    const key = `${address} ${namespace}`;
    let opening = this.transports.get(key);
    if (!opening) {
      opening = WsTransport.open({
        url: webSocketUrl(address), namespace, token: this.options.token, identity: `${NODE_IDENTITY_PREFIX}${this.options.nodeId}`,
        reconnectWaitMs: 2_000, connectTimeoutMs: 5_000,
      });
      // A node that cannot be reached now may be reached later (or be replaced): try again next time.
      opening.catch(() => this.transports.delete(key));
      this.transports.set(key, opening);
    }
    return opening;
  }
}
