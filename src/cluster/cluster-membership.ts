import type { ShardOwnership } from '../store/shard-ownership.ts';

/** The cluster's live nodes as a worker hears of them: this node's address and every live node's. */
export interface ClusterNodes {
  /** This node, `host:port` (as it advertises itself). */
  node: string;
  /** Every live node, this one included, sorted. */
  nodes: readonly string[];
}

/** What the hub needs of the membership: the list now, and word when it changes. */
export interface NodeList {
  /** Undefined on a single node (LevelDB): there is no one else to connect to. */
  current(): ClusterNodes | undefined;
  /** Tells `listener` each time the list changed; answers the function that stops telling. */
  subscribe(listener: (nodes: ClusterNodes) => void): () => void;
}

export interface ClusterMembershipOptions {
  /** How often the `nodes` table is read. Default 3 s: a node that joins gets its workers within about that. */
  refreshMs?: number;
}

/**
 * The addresses of the cluster's live nodes, read from the store's `nodes` table every few
 * seconds and kept, so a welcome can list them without waiting on the database. Workers that
 * follow the cluster hear of each change (a `nodes` frame): a pushed list rather than a worker
 * polling, because a change is rare, one query per node per interval serves every worker, and a
 * worker needs no request of its own (nor a reconnect) to learn of a node that joined.
 *
 * On a single node (a store without `setAddress`, or before the server listens) the list is
 * undefined and nothing is read. A read that fails keeps the last list: a database outage must
 * not make workers drop their connections.
 */
export class ClusterMembership implements NodeList {
  private list?: ClusterNodes;
  private timer?: ReturnType<typeof setInterval>;
  private readonly listeners = new Set<(nodes: ClusterNodes) => void>();
  private readonly refreshMs: number;
  private reading = false;

  constructor(private readonly ownership: ShardOwnership, options: ClusterMembershipOptions = {}) {
    this.refreshMs = options.refreshMs ?? 3_000;
  }

  /** Starts following the `nodes` table, this node being at `self`; a no-op on a single node. */
  async start(self: string): Promise<void> {
    if (!this.ownership.setAddress || this.timer) return;
    this.list = { node: self, nodes: [self] };
    await this.refresh(self);
    this.timer = setInterval(() => void this.refresh(self), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  current(): ClusterNodes | undefined {
    return this.list;
  }

  subscribe(listener: (nodes: ClusterNodes) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async refresh(self: string): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const live = await this.ownership.nodes();
      // This node is live whatever the table says (its row may be a heartbeat behind): it lists itself.
      const nodes = [...new Set([self, ...live.flatMap((n) => (n.address ? [n.address] : []))])].sort();
      if (this.list && sameList(this.list.nodes, nodes)) return;
      this.list = { node: self, nodes };
      for (const listener of this.listeners) listener(this.list);
    } catch {
      // The database is unreachable: keep the last list (the store reports the outage itself).
    } finally {
      this.reading = false;
    }
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
