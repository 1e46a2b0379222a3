import type { ClientOp } from '../common/wire.ts';
import { PeerUnreachableError, type PeerCaller } from './node-peers.ts';

/** How a call forwarded to another node ended: answered, answered with an error, or never sent. */
export type ForwardOutcome = 'ok' | 'error' | 'unreachable';

/** Told of every call forwarded to another node, once it ends: for metrics. It must not throw. */
export type ForwardObserver = (call: { op: ClientOp; outcome: ForwardOutcome; ms: number }) => void;

/**
 * A PeerCaller that tells `observer` of each call it passes on to `peers` (the node-to-node
 * calls: client calls forwarded to a shard's owner, and outbox work for another node's shards).
 * A decorator, so the router and the outbox stay unaware of metrics.
 */
export function observedPeers(peers: PeerCaller, observer: ForwardObserver): PeerCaller {
  return {
    async call(address, namespace, op, args) {
      const began = performance.now();
      let outcome: ForwardOutcome = 'error';
      try {
        const answer = await peers.call(address, namespace, op, args);
        outcome = 'ok';
        return answer;
      } catch (error) {
        if (error instanceof PeerUnreachableError) outcome = 'unreachable';
        throw error;
      } finally {
        try {
          observer({ op, outcome, ms: performance.now() - began });
        } catch {
          // A metrics observer that throws must not change a forwarded call's answer.
        }
      }
    },
  };
}
