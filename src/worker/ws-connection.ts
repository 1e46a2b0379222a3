import { hostname } from 'node:os';
import { webSocketUrl } from '../common/address.ts';
import { encode } from '../common/codec.ts';
import { InvalidArgumentError, PerdureError } from '../common/errors.ts';
import { ApplicationFailure, toFailureInfo } from '../common/failures.ts';
import { WIRE_LIMITS } from '../common/wire.ts';
import type { WorkerConnection, WorkerHandlers, WorkerRegistration, WorkerSession } from '../common/worker-protocol.ts';
import { Backoff } from '../sdk-socket/backoff.ts';
import { SdkSocket } from '../sdk-socket/sdk-socket.ts';
import { errorFromServer, type AnswerFrame, type PushedFrame } from '../sdk-socket/server-frames.ts';
import { encodeSendable } from './sendable-frame.ts';
import { WsSession, type ReportBody, type SessionHost } from './ws-session.ts';

/** Options of a worker's connection to a Perdure server. */
export interface WsConnectionOptions {
  /** `ws://127.0.0.1:7233/ws`, `http://127.0.0.1:7233` or `127.0.0.1:7233`. */
  address: string;
  /** Sent as `Authorization: Bearer <token>` on the upgrade, when the server requires tokens. */
  token?: string;
  /** Default `'default'`. Every session opened on the connection is in this namespace. */
  namespace?: string;
  /** Shown by the server (metrics, logs). Default `<hostname>:<pid>`. */
  identity?: string;
  /** Reconnect delays: exponential from `initialDelayMs` (100) to `maxDelayMs` (5,000), with jitter. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * How long the first connection may take, retrying refused connections, before `connect()`
   * rejects with CONNECTION_LOST. Default 10,000 ms; `Infinity` waits for the server forever.
   * Once connected, a lost connection is retried without limit.
   */
  connectTimeoutMs?: number;
  /** A silent server is pinged this often and dropped after two silent intervals. Default 15,000 ms. */
  pingIntervalMs?: number;
  /** Largest frame this worker sends (the server's limit; default 4 MiB). A larger result fails the attempt instead. */
  maxFrameBytes?: number;
  /** Told when the connection is made or lost (for logs). Told of a (re)connection before the queues register again. */
  onEvent?(event: ConnectionEvent): void;
  /**
   * Asks a cluster for its live nodes (hello `cluster: true`), which `onNodes` hears in each
   * welcome and whenever they change. What `Worker` uses to connect to every node
   * (ClusterWorkerConnection); a server that is no cluster says nothing. Default false.
   */
  followCluster?: boolean;
  /** The cluster's live nodes (`host:port`), with `node` the one this connection reached when the welcome says it. */
  onNodes?(nodes: { node?: string; nodes: readonly string[] }): void;
}

/** What `onEvent` hears. */
export type ConnectionEvent =
  | { type: 'connected'; url: string; sessionId: string; reconnected: boolean }
  | { type: 'disconnected'; url: string; reason: string; retryInMs: number };


/** A completion or failure until the server answers it: it survives reconnects. */
interface Report {
  body: ReportBody;
  resolve(): void;
  reject(error: Error): void;
  /** The connection (SdkSocket generation) it was last sent on, while waiting for the answer there. */
  sentOn?: number;
  checked: boolean;
  retry?: ReturnType<typeof setTimeout>;
  backoff?: Backoff;
}

/** Server answers after which a report was not applied and is sent again. */
// SHARD_NOT_HELD: a report sent to a node that does not hold the task's shard, while the shard
// is between owners (its node was lost, its lease not yet run out).
const RETRYABLE_REPORT_CODES = new Set(['ENGINE_STOPPED', 'TOO_MANY_REQUESTS', 'STORE_CLOSED', 'STORE_FAILED', 'SHARD_NOT_HELD']);

/**
 * A `WorkerConnection` over the server's WebSocket (msgpack frames, see `src/common/wire.ts`).
 * The shared SdkSocket (src/sdk-socket) connects, says hello, pings, reconnects and validates
 * frames; this class adds what is the worker's: sessions, reports, heartbeats. The sessions
 * opened on it outlive any one socket:
 *
 * ```
 *  worker                                         server
 *   │── upgrade (Authorization: Bearer …) ───────────►│  401 → UNAUTHORIZED, no retry
 *   │── hello { v, role: 'worker', namespace } ──────►│
 *   │◄──────────────────────── welcome | error ───────│  error (PROTOCOL_VERSION, FORBIDDEN) → no retry
 *   │── register { taskQueue, activityTypes, slots } ►│  one per open session
 *   │── complete / fail (unanswered ones, again) ────►│  ok, or TASK_TOKEN_STALE: dropped
 *   │◄─────────────────────────── task / cancel ──────│
 *   ╳ connection lost: wait 100 ms … 5 s (jitter), then again from the top
 * ```
 *
 * Invariant: a report (complete/fail) is kept until the server answers it, and sent again on
 * every new connection until then; so a completion of a task in flight is never lost to a
 * reconnect. The server accepts it if the attempt is still current, and answers
 * TASK_TOKEN_STALE otherwise (the attempt timed out and was retried meanwhile). Heartbeats are
 * best-effort: one sent while disconnected is dropped.
 *
 * Every session registers its full slots on each connection: the slots of tasks still running
 * from an earlier connection stay with that connection's (closed) session on the server, so the
 * Worker keeps its own limit and holds a task locally if one arrives while all its slots run
 * tasks of the earlier connection.
 *
 * @example
 * const connection = await WsWorkerConnection.connect({ address: 'localhost:7233', token: process.env.PERDURE_AUTH_TOKEN });
 * const worker = Worker.create({ connection, taskQueue: 'orders', activities });
 * await worker.run();
 */
export class WsWorkerConnection implements WorkerConnection, SessionHost {
  /** The WebSocket URL the address resolved to. */
  readonly url: string;
  readonly namespace: string;
  /** Resolves once the connection is closed with close(); rejects when it failed for good (bad token, version). */
  readonly closed: Promise<void>;

  private readonly identity: string;
  private readonly maxFrameBytes: number;
  private readonly socket: SdkSocket;
  /** The connection (generation) on which a queue was registered (the server takes reports only after that). */
  private reporterOn?: number;
  private readonly reports = new Set<Report>();
  private readonly sessions = new Map<string, WsSession>();
  /** Set by close() or a failure for good: no new session or report. */
  private isClosed = false;
  /** The server on this socket listed the cluster's nodes: it knows the `slots` frame. */
  private inCluster = false;

  private constructor(private readonly options: WsConnectionOptions) {
    this.url = webSocketUrl(options.address);
    this.namespace = options.namespace ?? 'default';
    this.identity = (options.identity ?? `${hostname()}:${process.pid}`).slice(0, 200);
    this.maxFrameBytes = options.maxFrameBytes ?? WIRE_LIMITS.maxFrameBytes;
    this.socket = new SdkSocket({
      url: this.url, role: 'worker', namespace: this.namespace, token: options.token, identity: this.identity, followCluster: options.followCluster,
      reconnect: { initialDelayMs: options.reconnect?.initialDelayMs, maxDelayMs: options.reconnect?.maxDelayMs },
      firstConnectWithinMs: options.connectTimeoutMs ?? 10_000, firstConnectOption: 'connectTimeoutMs',
      pingIntervalMs: options.pingIntervalMs ?? WIRE_LIMITS.pingIntervalMs,
      // What the server sends is at most a task (input from a client frame of at most the
      // server's limit) plus heartbeat details: generous, but bounded.
      maxPayload: Math.max(64 * 1024 * 1024, 4 * this.maxFrameBytes),
      // A refused token, namespace or version would be refused again: the worker stops and says why.
      stopOnRefusal: true,
      onWelcome: ({ sessionId, reconnected, node, nodes }) => this.welcomed(sessionId, reconnected, nodes && { node, nodes }),
      onFrame: (frame) => this.dispatch(frame),
      onDisconnect: ({ error, retryInMs }) => {
        for (const report of this.reports) report.sentOn = undefined;
        for (const session of this.sessions.values()) session.registeredOn = undefined;
        options.onEvent?.({ type: 'disconnected', url: this.url, reason: error.message, retryInMs });
      },
      onFailed: (error) => this.rejectReports(error),
    });
    this.closed = this.socket.closed;
  }

  /**
   * Connects and says hello; resolves once the server has welcomed the worker. Refused
   * connections are retried until `connectTimeoutMs`; a refused token or protocol version is not.
   *
   * @throws UnauthorizedError (401 on the upgrade), ForbiddenError (the token does not allow a
   *   worker in this namespace), ProtocolError PROTOCOL_VERSION (with `supported`), or
   *   PerdureError CONNECTION_LOST when the server could not be reached in time.
   * @example
   * const connection = await WsWorkerConnection.connect({ address: 'ws://127.0.0.1:7233/ws', namespace: 'shop' });
   */
  static async connect(options: WsConnectionOptions): Promise<WsWorkerConnection> {
    const connection = WsWorkerConnection.create(options);
    await connection.start();
    return connection;
  }

  /**
   * @internal The connection, not yet connecting: start() connects, resolving as connect() does.
   * For an owner that may close it before its first welcome (a cluster node that never answers).
   */
  static create(options: WsConnectionOptions): WsWorkerConnection {
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('WsWorkerConnection.connect needs options');
    if (options.token !== undefined && (typeof options.token !== 'string' || /[\r\n]/.test(options.token))) {
      throw new InvalidArgumentError('token must be a string without line breaks');
    }
    return new WsWorkerConnection(options);
  }

  /** @internal See create(). */
  start(): Promise<void> {
    return this.socket.start();
  }

  /** Whether a socket is open and welcomed right now. */
  get connected(): boolean {
    return this.socket.connected;
  }

  openSession(registration: WorkerRegistration, handlers: WorkerHandlers): WorkerSession {
    if (this.isClosed) throw new PerdureError('CONNECTION_LOST', `the connection to ${this.url} is closed; make a new one`);
    if (registration.namespace !== this.namespace) {
      throw new InvalidArgumentError(`this connection is to namespace "${this.namespace}"; a worker of namespace "${registration.namespace}" needs its own connection`);
    }
    const previous = this.sessions.get(registration.taskQueue);
    if (previous && !previous.closed) throw new InvalidArgumentError(`task queue "${registration.taskQueue}" already has a worker on this connection`);
    if (previous?.registeredOn !== undefined) this.unregister(previous);
    const session = new WsSession(this, registration, handlers);
    this.sessions.set(registration.taskQueue, session);
    if (this.socket.connected) this.register(session);
    return session;
  }

  /**
   * Closes the connection (1000). Reports still unanswered are rejected with CONNECTION_LOST:
   * close after the tasks in flight reported (the Worker's shutdown() does).
   */
  async close(): Promise<void> {
    if (!this.isClosed) this.rejectReports(new PerdureError('CONNECTION_LOST', `the connection to ${this.url} was closed with this report unanswered`));
    this.isClosed = true;
    await this.socket.close();
  }

  // ── what sessions call ───────────────────────────────────────────────────────────────────

  /** @internal Sends a report and keeps it, across reconnects, until the server answers it. */
  report(body: ReportBody): Promise<void> {
    if (this.isClosed) return Promise.reject(new PerdureError('CONNECTION_LOST', `the connection to ${this.url} is closed`));
    return new Promise<void>((resolve, reject) => {
      const report: Report = { body, resolve, reject, checked: false };
      this.reports.add(report);
      if (this.socket.connected) this.sendReport(report);
    });
  }

  /** @internal Best-effort: resolves `{ cancelRequested: false }` when there is no connection. */
  heartbeat(taskToken: string, details: unknown): Promise<{ cancelRequested: boolean }> {
    if (!this.socket.connected) return Promise.resolve({ cancelRequested: false });
    let answer: Promise<AnswerFrame>;
    try {
      answer = this.socket.request((id) => {
        const bytes = encodeSendable({ t: 'heartbeat', id, taskToken, details }, this.maxFrameBytes);
        if (typeof bytes === 'string') throw new InvalidArgumentError(`heartbeat details ${bytes}`);
        return bytes;
      }, { what: 'a heartbeat' });
    } catch (error) {
      return Promise.reject(error);
    }
    return answer.then((frame) => {
      if (frame.t === 'error') throw errorFromServer(frame.code, frame.message, { taskToken });
      return { cancelRequested: (frame.value as { cancelRequested?: unknown } | undefined)?.cancelRequested === true };
    }, () => ({ cancelRequested: false })); // the connection went: a heartbeat is not kept
  }

  /** @internal */
  unregister(session: WsSession): void {
    if (!this.socket.connected || session.registeredOn !== this.socket.generation) return;
    session.registeredOn = undefined;
    const taskQueue = session.registration.taskQueue;
    this.socket.request((id) => encode({ t: 'unregister', id, taskQueue }), { what: 'unregister' }).catch(() => {});
  }

  /**
   * @internal A new credit for the session's queue on this connection: sent now if the server
   * knows the `slots` frame (a cluster), else kept for the next registration.
   */
  resize(session: WsSession, slots: number): void {
    if (session.registration.slots === slots) return;
    session.registration.slots = slots;
    if (!this.inCluster || session.closed || !this.socket.connected || session.registeredOn !== this.socket.generation) return;
    const taskQueue = session.registration.taskQueue;
    this.socket.request((id) => encode({ t: 'slots', id, taskQueue, slots }), { what: 'slots' }).catch(() => {});
  }

  // ── connections ──────────────────────────────────────────────────────────────────────────

  private welcomed(sessionId: string, reconnected: boolean, cluster: { node?: string; nodes: readonly string[] } | undefined): void {
    this.inCluster = cluster !== undefined;
    // Told first: a worker sharing its slots between nodes sets this connection's share before
    // its queues register with it.
    this.options.onEvent?.({ type: 'connected', url: this.url, sessionId, reconnected });
    if (cluster) this.options.onNodes?.(cluster);
    for (const session of this.sessions.values()) if (!session.closed) this.register(session);
    for (const report of this.reports) this.sendReport(report);
  }

  /** Rejects every report still unanswered: the connection is closed, or failed for good. */
  private rejectReports(error: Error): void {
    this.isClosed = true;
    for (const report of this.reports) {
      clearTimeout(report.retry);
      report.reject(error);
    }
    this.reports.clear();
  }

  // ── frames ───────────────────────────────────────────────────────────────────────────────

  private dispatch(frame: PushedFrame): void {
    if (frame.t === 'task') {
      const session = this.sessions.get(frame.task.taskQueue);
      if (!session || frame.task.namespace !== this.namespace) {
        // Never asked for: hand it back so its slot returns and another worker takes it.
        void this.report({ t: 'fail', taskToken: frame.task.taskToken, failure: toFailureInfo(ApplicationFailure.create({
          message: `worker ${this.identity} has no session for task queue "${frame.task.taskQueue}"`, type: 'WorkerMisrouted',
        })) }).catch(() => {});
        return;
      }
      session.handlers.onTask(frame.task);
      return;
    }
    if (frame.t === 'nodes') {
      this.inCluster = true;
      this.options.onNodes?.({ nodes: frame.nodes });
      return;
    }
    // Tokens are unique: only the session running it knows it; the others ignore it.
    for (const session of this.sessions.values()) session.handlers.onCancel(frame.taskToken, frame.reason);
  }

  private reportAnswered(report: Report, frame: AnswerFrame): void {
    report.sentOn = undefined;
    if (!this.reports.has(report)) return;
    if (frame.t === 'error' && RETRYABLE_REPORT_CODES.has(frame.code)) {
      // Not applied (the server is stopping, or busy): send it again a little later.
      report.backoff ??= new Backoff({ initialMs: 200, maxMs: 5_000 });
      report.retry = setTimeout(() => {
        if (this.reports.has(report) && this.socket.connected && report.sentOn === undefined) this.sendReport(report);
      }, report.backoff.next());
      return;
    }
    this.reports.delete(report);
    if (frame.t === 'error') report.reject(errorFromServer(frame.code, frame.message, { taskToken: report.body.taskToken }));
    else report.resolve();
  }

  private register(session: WsSession): void {
    const r = session.registration;
    session.registeredOn = this.socket.generation;
    this.reporterOn = this.socket.generation;
    // A closed session registers only to report what it still runs: no activity type, no task.
    const frame = { t: 'register', taskQueue: r.taskQueue, activityTypes: session.closed ? [] : r.activityTypes, slots: session.closed ? 1 : r.slots };
    this.socket.request((id) => encode({ ...frame, id }), { what: 'register' }).then((answer) => {
      // A refused registration (a reserved queue name, too many slots) is a configuration
      // mistake that reconnecting would repeat.
      if (answer.t === 'error') this.socket.fail(errorFromServer(answer.code, answer.message));
    }, () => {}); // the connection went: the next one registers again
  }

  private sendReport(report: Report): void {
    clearTimeout(report.retry);
    // The server takes reports only on a connection that registered a queue (it keeps that
    // session for reports after an unregister). Every session shutting down: register one
    // that takes no task.
    if (this.reporterOn !== this.socket.generation) {
      const last = [...this.sessions.values()].at(-1);
      if (last) this.register(last);
    }
    report.sentOn = this.socket.generation;
    this.socket.request((id) => {
      let bytes = encodeSendable({ ...report.body, id }, this.maxFrameBytes, !report.checked);
      if (typeof bytes === 'string') {
        // The result cannot cross the wire (too large, or a value the server refuses): the
        // attempt fails instead, for good, since running it again would give the same result.
        report.body = {
          t: 'fail', taskToken: report.body.taskToken,
          failure: toFailureInfo(ApplicationFailure.create({
            message: `the activity's ${report.body.t === 'complete' ? 'result' : 'failure'} ${bytes}`, type: 'UnsendableResult', nonRetryable: true,
          })),
        };
        bytes = encode({ ...report.body, id });
      }
      report.checked = true;
      return bytes;
    }, { what: `a ${report.body.t} report` }).then(
      (answer) => this.reportAnswered(report, answer),
      // The connection went: the report stays, and the next connection sends it again.
      () => {},
    );
  }
}
