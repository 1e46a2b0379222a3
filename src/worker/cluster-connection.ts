import { PerdureError } from '../common/errors.ts';
import type { FailureInfo } from '../common/failures.ts';
import type { WorkerConnection, WorkerHandlers, WorkerRegistration, WorkerSession } from '../common/worker-protocol.ts';
import { shareSlots } from './slot-shares.ts';
import { WsWorkerConnection, type WsConnectionOptions } from './ws-connection.ts';
import type { WsSession } from './ws-session.ts';

/** One node of the cluster and this worker's connection to it. */
interface Member {
  /** The node's address as the cluster lists it (the seed's as given, until its welcome names it). */
  key: string;
  /** Set once the first connection was welcomed; reconnects are the connection's own business. */
  connection?: WsWorkerConnection;
  /** The connection before its first welcome (closed, should the node go first). */
  opening?: WsWorkerConnection;
  /** The last node list this node sent (absent from a server that is no cluster). */
  listed?: readonly string[];
  /** No longer listed by any node: closed for good. */
  removed: boolean;
  /** The queues served over this connection. */
  sessions: Map<ClusterSession, WsSession>;
}

/**
 * A worker's connections to every node of a cluster, as one `WorkerConnection`. It connects to
 * the address it is given, learns the live nodes from the welcome (and from `nodes` frames when
 * they change), and keeps one WsWorkerConnection per node — same identity, namespace, queues and
 * token — so each node pushes the tasks of its own shards (docs/cluster.md, "Workers"):
 *
 * ```
 *  worker                       node A (given)        node B        node C
 *   │── hello { cluster } ────────►│
 *   │◄── welcome { nodes: A B C } ─│
 *   │── hello { cluster } ─────────┼──────────────────►│             │
 *   │── hello { cluster } ─────────┼────────────────────────────────►│
 *   │◄──────────── task ───────────┼───────────────────│  (one of B's shards)
 *   │── complete ──────────────────┼──────────────────►│  back where it came from;
 *   ╳ B gone for good: complete ──►│── node.taskReport ─► owner of the shard now
 * ```
 *
 * - A node that is down but still listed (restarting: it comes back at the same address) keeps
 *   its connection, which reconnects with backoff. A node no connected node lists any more (it
 *   stopped, or its heartbeat ran out) is closed; reports still waiting on it go to another node,
 *   which forwards them to the shard's owner (a stale token is refused there, as anywhere).
 * - The limit is shared: each queue's slots are split between the connections that are up (see
 *   shareSlots), and re-split (a `slots` frame) when one comes or goes. The Worker keeps its own
 *   count as well, so tasks of a connection that dropped, still running, never push it over.
 * - A completion goes back on the connection its task came on. A task pushed by two nodes (its
 *   shard changed owner while it ran) is reported to both: the one it came from last decides,
 *   the other refuses it as stale and so frees the slot it held.
 *
 * `Worker.create({ address })` makes one by itself (unless `followCluster: false`); make one
 * yourself to see which nodes it is connected to.
 *
 * @example
 * const connection = await ClusterWorkerConnection.connect({ address: 'node-a.internal:7233', token });
 * const worker = Worker.create({ connection, taskQueue: 'orders', activities, maxConcurrentActivities: 30 });
 * void worker.run();
 * console.log(connection.nodes()); // [{ address: '10.0.0.5:7233', connected: true }, …]
 */
export class ClusterWorkerConnection implements WorkerConnection {
  /** Resolves once closed with close(); rejects when a node refused the worker for good (token, namespace, version). */
  readonly closed: Promise<void>;

  private readonly members = new Map<string, Member>();
  private readonly sessions: ClusterSession[] = [];
  private isClosed = false;
  private settleClosed!: { resolve(): void; reject(error: Error): void };

  private constructor(private readonly options: WsConnectionOptions) {
    this.closed = new Promise((resolve, reject) => (this.settleClosed = { resolve, reject }));
    this.closed.catch(() => {});
  }

  /**
   * Connects to `options.address` (as WsWorkerConnection.connect, and failing as it does), then
   * to every other live node that one lists. A server that is no cluster lists none: the worker
   * then has this one connection, as without followCluster.
   */
  static async connect(options: WsConnectionOptions): Promise<ClusterWorkerConnection> {
    const cluster = new ClusterWorkerConnection(options);
    await cluster.join(options.address, true);
    return cluster;
  }

  /** The nodes this worker has a connection to (open or reconnecting), by address. */
  nodes(): { address: string; connected: boolean }[] {
    return [...this.members.values()].map((m) => ({ address: m.key, connected: m.connection?.connected ?? false }));
  }

  openSession(registration: WorkerRegistration, handlers: WorkerHandlers): WorkerSession {
    if (this.isClosed) throw new PerdureError('CONNECTION_LOST', 'the worker\'s connections to the cluster are closed; make a new one');
    const session = new ClusterSession(this, registration, handlers);
    this.sessions.push(session);
    for (const member of this.members.values()) if (member.connection) this.openOn(member, session);
    this.rebalance();
    return session;
  }

  /** Closes every connection (see WsWorkerConnection.close: close after the tasks in flight reported). */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const all = [...this.members.values()];
    this.members.clear();
    await Promise.all(all.map((m) => (m.connection ?? m.opening)?.close()));
    this.settleClosed.resolve();
  }

  // ── what sessions call ───────────────────────────────────────────────────────────────────

  /** @internal Sends a report on the connection its task came from, or, that one gone for good, on another. */
  async report(session: ClusterSession, taskToken: string, send: (on: WorkerSession) => Promise<void>): Promise<void> {
    const origins = session.takeOrigins(taskToken).filter((m) => !m.removed);
    let target = origins.pop();
    // Earlier nodes that pushed the same attempt: they answer TASK_TOKEN_STALE, and free its slot.
    for (const other of origins) void send(other.sessions.get(session)!).catch(() => {});
    for (;;) {
      target ??= this.anyMember(session);
      if (!target) throw new PerdureError('CONNECTION_LOST', `no connection to a node of the cluster is left to report task ${taskToken.slice(0, 40)}…`);
      try {
        return await send(target.sessions.get(session)!);
      } catch (error) {
        // The node it went to left the cluster before answering: another node takes the report
        // and forwards it to the shard's owner. Anything else is the answer.
        if (!target.removed || this.isClosed || (error as { code?: string }).code !== 'CONNECTION_LOST') throw error;
        target = undefined;
      }
    }
  }

  /** @internal Best-effort, like a single connection's: on the task's connection, or any other up. */
  heartbeat(session: ClusterSession, taskToken: string, details: unknown): Promise<{ cancelRequested: boolean }> {
    const target = session.origins.get(taskToken)?.filter((m) => !m.removed).at(-1) ?? this.anyMember(session);
    return target ? target.sessions.get(session)!.heartbeat(taskToken, details) : Promise.resolve({ cancelRequested: false });
  }

  // ── members ──────────────────────────────────────────────────────────────────────────────

  private async join(address: string, seed: boolean): Promise<void> {
    const member: Member = { key: address, removed: false, sessions: new Map() };
    this.members.set(address, member);
    const opening = WsWorkerConnection.create({
      ...this.options, address, followCluster: true,
      // A node the cluster lists is waited for as long as it stays listed; only the first
      // address, which the user gave, has the connect timeout.
      connectTimeoutMs: seed ? this.options.connectTimeoutMs : Infinity,
      onEvent: (event) => {
        this.options.onEvent?.(event);
        this.rebalance();
      },
      onNodes: (nodes) => this.listed(member, nodes),
    });
    member.opening = opening;
    const connection = opening;
    try {
      await opening.start();
    } catch (error) {
      // Removed meanwhile, the node may have been listed again: that is another member.
      if (this.members.get(member.key) === member) this.members.delete(member.key);
      if (seed) throw error;
      if (!member.removed && !this.isClosed) this.failed(error as Error);
      return;
    }
    if (member.removed || this.isClosed) {
      await connection.close();
      return;
    }
    member.connection = connection;
    connection.closed.catch((error: Error) => {
      if (!member.removed && !this.isClosed) this.failed(error);
    });
    for (const session of this.sessions) this.openOn(member, session);
    this.rebalance();
  }

  private openOn(member: Member, session: ClusterSession): void {
    if (member.sessions.has(session)) return;
    const on = member.connection!.openSession({ ...session.registration, slots: this.shares(session).get(member) ?? 1 }, session.handlersFor(member)) as WsSession;
    if (session.closed) on.close();
    member.sessions.set(session, on);
  }

  /**
   * A node told its list. The nodes to keep are those listed by any connected node (each lists
   * itself): one node's list may be a refresh behind, and a node is closed only once none of
   * the nodes that are up lists it.
   */
  private listed(member: Member, { node, nodes }: { node?: string; nodes: readonly string[] }): void {
    if (member.removed || this.isClosed) return;
    if (node !== undefined && node !== member.key) {
      // The address given is not the one the cluster knows the node by (a hostname, a proxy):
      // go by the cluster's, or the node would be connected to twice.
      if (this.members.has(node)) {
        this.remove(member);
        return;
      }
      this.members.delete(member.key);
      member.key = node;
      this.members.set(node, member);
    }
    member.listed = nodes;
    const live = new Set<string>();
    for (const m of this.members.values()) if (m.connection?.connected || m === member) for (const a of m.listed ?? [m.key]) live.add(a);
    for (const address of live) if (!this.members.has(address)) void this.join(address, false);
    for (const m of [...this.members.values()]) if (!live.has(m.key) && !m.connection?.connected) this.remove(m);
  }

  private remove(member: Member): void {
    member.removed = true;
    this.members.delete(member.key);
    // Reports waiting on it are rejected (CONNECTION_LOST) and report() sends them elsewhere.
    void (member.connection ?? member.opening)?.close();
    this.rebalance();
  }

  /**
   * A node refused this worker for good (its token, namespace or version): as a single server's
   * refusal does, it ends the worker with the reason — the nodes of one cluster should agree.
   */
  private failed(error: Error): void {
    if (this.isClosed) return;
    this.settleClosed.reject(error); // first: close() resolving it later changes nothing
    void this.close();
  }

  /** @internal The connections' sessions of one cluster session. */
  sessionsOf(session: ClusterSession): WsSession[] {
    return [...this.members.values()].flatMap((m) => m.sessions.get(session) ?? []);
  }

  /** Splits each session's slots between the connections that are up, and tells each its share. */
  private rebalance(): void {
    for (const session of this.sessions) {
      for (const [member, share] of this.shares(session)) member.sessions.get(session)?.resize(share);
    }
  }

  /** Each member's share of `session`'s slots: split between the members that are up (others keep theirs). */
  private shares(session: ClusterSession): Map<Member, number> {
    const up = [...this.members.values()].filter((m) => m.connection?.connected).sort((a, b) => a.key.localeCompare(b.key));
    const split = shareSlots(session.registration.slots, up.length);
    return new Map(up.map((m, i) => [m, split[i]!]));
  }

  /** A member to report through when the task's own connection is gone: one that is up, else any. */
  private anyMember(session: ClusterSession): Member | undefined {
    const candidates = [...this.members.values()].filter((m) => !m.removed && m.sessions.has(session));
    return candidates.find((m) => m.connection?.connected) ?? candidates[0];
  }
}

/** One queue served over every connection of the cluster, as one WorkerSession. */
class ClusterSession implements WorkerSession {
  closed = false;
  /** The members each task in flight was pushed by, in the order they pushed it. */
  readonly origins = new Map<string, Member[]>();

  constructor(
    private readonly cluster: ClusterWorkerConnection,
    readonly registration: WorkerRegistration,
    private readonly handlers: WorkerHandlers,
  ) {}

  handlersFor(member: Member): WorkerHandlers {
    return {
      onTask: (task) => {
        const from = this.origins.get(task.taskToken) ?? [];
        this.origins.set(task.taskToken, [...from.filter((m) => m !== member), member]);
        this.handlers.onTask(task);
      },
      onCancel: (taskToken, reason) => this.handlers.onCancel(taskToken, reason),
    };
  }

  takeOrigins(taskToken: string): Member[] {
    const origins = this.origins.get(taskToken) ?? [];
    this.origins.delete(taskToken);
    return [...origins];
  }

  complete(taskToken: string, output: unknown): Promise<void> {
    return this.cluster.report(this, taskToken, (on) => on.complete(taskToken, output));
  }

  fail(taskToken: string, failure: FailureInfo): Promise<void> {
    return this.cluster.report(this, taskToken, (on) => on.fail(taskToken, failure));
  }

  heartbeat(taskToken: string, details?: unknown): Promise<{ cancelRequested: boolean }> {
    return this.cluster.heartbeat(this, taskToken, details);
  }

  /** A graceful close on every connection: each node stops pushing, and reports still go through. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const member of this.membersOf()) member.close();
  }

  private membersOf(): WsSession[] {
    return this.cluster.sessionsOf(this);
  }
}
