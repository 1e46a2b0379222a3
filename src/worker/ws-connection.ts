import { WsSession, type ReportBody, type SessionHost } from './ws-session.ts';
import { hostname } from 'node:os';
import { webSocketUrl } from '../common/address.ts';
import { encode } from '../common/codec.ts';
import { encodeSendable } from './sendable-frame.ts';
import { InvalidArgumentError, PerdureError } from '../common/errors.ts';
import { ApplicationFailure, toFailureInfo } from '../common/failures.ts';
import { WIRE_LIMITS } from '../common/wire.ts';
import type { WorkerConnection, WorkerHandlers, WorkerRegistration, WorkerSession } from '../common/worker-protocol.ts';
import { Backoff } from './backoff.ts';
import { errorFromServer, type ErrorFrame, type IncomingFrame } from './server-frames.ts';
import { WorkerSocket, type SocketEnd } from './worker-socket.ts';

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
  /** Told when the connection is made or lost (for logs). */
  onEvent?(event: ConnectionEvent): void;
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
  /** The socket it was last sent on, while waiting for the answer there. */
  sentOn?: WorkerSocket;
  checked: boolean;
  retry?: ReturnType<typeof setTimeout>;
  backoff?: Backoff;
}

type Pending =
  | { kind: 'report'; report: Report }
  | { kind: 'heartbeat'; taskToken: string; resolve(value: { cancelRequested: boolean }): void; reject(error: Error): void }
  | { kind: 'register'; session: WsSession }
  | { kind: 'unregister' };

type Phase = 'connecting' | 'open' | 'waiting' | 'closed';

/** Server answers after which a report was not applied and is sent again. */
const RETRYABLE_REPORT_CODES = new Set(['ENGINE_STOPPED', 'TOO_MANY_REQUESTS', 'STORE_CLOSED', 'STORE_FAILED']);
const MAX_REQUEST_ID = 2 ** 31 - 1;

/**
 * A `WorkerConnection` over the server's WebSocket (msgpack frames, see `src/common/wire.ts`).
 * It reconnects by itself, so the sessions opened on it outlive any one socket:
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
  private readonly backoff: Backoff;
  private readonly connectDeadline: number;
  private readonly pingIntervalMs: number;
  private readonly maxFrameBytes: number;
  private phase: Phase = 'connecting';
  private socket?: WorkerSocket;
  /** The socket on which a queue was registered (the server takes reports only after that). */
  private reporterOn?: WorkerSocket;
  private everConnected = false;
  private nextId = 1;
  private readonly requests = new Map<number, Pending>();
  private readonly reports = new Set<Report>();
  private readonly sessions = new Map<string, WsSession>();
  private readonly ready: Promise<void>;
  private settleReady!: { resolve(): void; reject(error: Error): void };
  private settleClosed!: { resolve(): void; reject(error: Error): void };
  private reconnectTimer?: ReturnType<typeof setTimeout>;

  private constructor(private readonly options: WsConnectionOptions) {
    this.url = webSocketUrl(options.address);
    this.namespace = options.namespace ?? 'default';
    this.identity = (options.identity ?? `${hostname()}:${process.pid}`).slice(0, 200);
    this.backoff = new Backoff({ initialMs: options.reconnect?.initialDelayMs, maxMs: options.reconnect?.maxDelayMs });
    this.connectDeadline = Date.now() + (options.connectTimeoutMs ?? 10_000);
    this.pingIntervalMs = options.pingIntervalMs ?? WIRE_LIMITS.pingIntervalMs;
    this.maxFrameBytes = options.maxFrameBytes ?? WIRE_LIMITS.maxFrameBytes;
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.closed = new Promise((resolve, reject) => (this.settleClosed = { resolve, reject }));
    // Whoever awaits these gets the rejection; nobody awaiting them must not crash the process.
    this.ready.catch(() => {});
    this.closed.catch(() => {});
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
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('WsWorkerConnection.connect needs options');
    if (options.token !== undefined && (typeof options.token !== 'string' || /[\r\n]/.test(options.token))) {
      throw new InvalidArgumentError('token must be a string without line breaks');
    }
    const connection = new WsWorkerConnection(options);
    connection.open();
    await connection.ready;
    return connection;
  }

  /** Whether a socket is open and welcomed right now. */
  get connected(): boolean {
    return this.phase === 'open';
  }

  openSession(registration: WorkerRegistration, handlers: WorkerHandlers): WorkerSession {
    if (this.phase === 'closed') throw new PerdureError('CONNECTION_LOST', `the connection to ${this.url} is closed; make a new one`);
    if (registration.namespace !== this.namespace) {
      throw new InvalidArgumentError(`this connection is to namespace "${this.namespace}"; a worker of namespace "${registration.namespace}" needs its own connection`);
    }
    const previous = this.sessions.get(registration.taskQueue);
    if (previous && !previous.closed) throw new InvalidArgumentError(`task queue "${registration.taskQueue}" already has a worker on this connection`);
    if (previous?.registeredOn) this.unregister(previous);
    const session = new WsSession(this, registration, handlers);
    this.sessions.set(registration.taskQueue, session);
    if (this.phase === 'open') this.register(session);
    return session;
  }

  /**
   * Closes the connection (1000). Reports still unanswered are rejected with CONNECTION_LOST:
   * close after the tasks in flight reported (the Worker's shutdown() does).
   */
  async close(): Promise<void> {
    if (this.phase === 'closed') return this.closed.catch(() => {});
    this.phase = 'closed';
    clearTimeout(this.reconnectTimer);
    const lost = new PerdureError('CONNECTION_LOST', `the connection to ${this.url} was closed with this report unanswered`);
    this.settleReady.reject(new PerdureError('CONNECTION_LOST', `the connection to ${this.url} was closed before the server welcomed it`));
    this.dropRequests(lost);
    const socket = this.socket;
    this.socket = undefined;
    await socket?.close();
    this.settleClosed.resolve();
  }

  // ── what sessions call ───────────────────────────────────────────────────────────────────

  /** @internal Sends a report and keeps it, across reconnects, until the server answers it. */
  report(body: ReportBody): Promise<void> {
    if (this.phase === 'closed') return Promise.reject(new PerdureError('CONNECTION_LOST', `the connection to ${this.url} is closed`));
    return new Promise<void>((resolve, reject) => {
      const report: Report = { body, resolve, reject, checked: false };
      this.reports.add(report);
      if (this.phase === 'open') this.sendReport(report);
    });
  }

  /** @internal Best-effort: resolves `{ cancelRequested: false }` when there is no connection. */
  heartbeat(taskToken: string, details: unknown): Promise<{ cancelRequested: boolean }> {
    if (this.phase !== 'open') return Promise.resolve({ cancelRequested: false });
    const id = this.newId();
    const bytes = encodeSendable({ t: 'heartbeat', id, taskToken, details }, this.maxFrameBytes);
    if (typeof bytes === 'string') return Promise.reject(new InvalidArgumentError(`heartbeat details ${bytes}`));
    return new Promise((resolve, reject) => {
      this.requests.set(id, { kind: 'heartbeat', taskToken, resolve, reject });
      this.sendBytes(bytes);
    });
  }

  /** @internal */
  unregister(session: WsSession): void {
    if (this.phase !== 'open' || session.registeredOn !== this.socket) return;
    session.registeredOn = undefined;
    const id = this.newId();
    this.requests.set(id, { kind: 'unregister' });
    this.send({ t: 'unregister', id, taskQueue: session.registration.taskQueue });
  }

  // ── connecting ───────────────────────────────────────────────────────────────────────────

  private open(): void {
    this.phase = 'connecting';
    const socket: WorkerSocket = new WorkerSocket({
      url: this.url, token: this.options.token, namespace: this.namespace, identity: this.identity, pingIntervalMs: this.pingIntervalMs,
      // What the server sends is at most a task (input from a client frame of at most the
      // server's limit) plus heartbeat details: generous, but bounded.
      maxPayload: Math.max(64 * 1024 * 1024, 4 * this.maxFrameBytes),
    }, {
      welcomed: (sessionId) => this.socket === socket && this.welcomed(sessionId),
      frame: (frame) => this.socket === socket && this.dispatch(frame),
      ended: (end) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.socketEnded(end);
      },
    });
    this.socket = socket;
  }

  private welcomed(sessionId: string): void {
    this.phase = 'open';
    this.backoff.reset();
    const reconnected = this.everConnected;
    this.everConnected = true;
    for (const session of this.sessions.values()) if (!session.closed) this.register(session);
    for (const report of this.reports) this.sendReport(report);
    this.settleReady.resolve();
    this.options.onEvent?.({ type: 'connected', url: this.url, sessionId, reconnected });
  }

  private socketEnded(failure: SocketEnd): void {
    const dropped = new PerdureError('CONNECTION_LOST', `connection to ${this.url} lost`);
    for (const report of this.reports) report.sentOn = undefined;
    for (const session of this.sessions.values()) session.registeredOn = undefined;
    this.dropRequests(dropped, { keepReports: true });
    if (this.phase === 'closed') return;
    if (failure.fatal) {
      this.failForGood(failure.error);
      return;
    }
    const delay = this.backoff.next();
    if (!this.everConnected && Date.now() + delay > this.connectDeadline) {
      this.failForGood(new PerdureError('CONNECTION_LOST',
        `could not connect to ${this.url} within ${this.options.connectTimeoutMs ?? 10_000} ms (${failure.error.message}). Is the server running there?`));
      return;
    }
    this.phase = 'waiting';
    this.options.onEvent?.({ type: 'disconnected', url: this.url, reason: failure.error.message, retryInMs: delay });
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  /** The server refused this worker (token, namespace, version): no reconnecting. */
  private failForGood(error: Error): void {
    this.phase = 'closed';
    clearTimeout(this.reconnectTimer);
    this.dropRequests(error);
    this.settleReady.reject(error);
    this.settleClosed.reject(error);
    const socket = this.socket;
    this.socket = undefined;
    socket?.drop(error, true);
  }

  /**
   * Forgets the requests of a socket that is gone: heartbeats answer "no cancel" (best-effort),
   * reports stay for the next connection unless `keepReports` is false.
   */
  private dropRequests(error: Error, options: { keepReports?: boolean } = {}): void {
    const requests = [...this.requests.values()];
    this.requests.clear();
    for (const pending of requests) if (pending.kind === 'heartbeat') pending.resolve({ cancelRequested: false });
    if (options.keepReports) return;
    for (const report of this.reports) {
      clearTimeout(report.retry);
      report.reject(error);
    }
    this.reports.clear();
  }

  // ── frames ───────────────────────────────────────────────────────────────────────────────

  private dispatch(frame: Exclude<IncomingFrame, { t: 'welcome' }>): void {
    switch (frame.t) {
      case 'task': {
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
      case 'cancel':
        // Tokens are unique: only the session running it knows it; the others ignore it.
        for (const session of this.sessions.values()) session.handlers.onCancel(frame.taskToken, frame.reason);
        return;
      case 'ok':
      case 'error':
        this.answered(frame);
        return;
    }
  }

  private answered(frame: { t: 'ok'; id: number; value?: unknown } | ErrorFrame): void {
    const pending = this.requests.get(frame.id!);
    if (!pending) return; // an answer to a request of an earlier socket, or a duplicate
    this.requests.delete(frame.id!);
    const error = frame.t === 'error' ? frame : undefined;
    switch (pending.kind) {
      case 'report': {
        const report = pending.report;
        report.sentOn = undefined;
        if (error && RETRYABLE_REPORT_CODES.has(error.code)) {
          // Not applied (the server is stopping, or busy): send it again a little later.
          report.backoff ??= new Backoff({ initialMs: 200, maxMs: 5_000 });
          report.retry = setTimeout(() => {
            if (this.reports.has(report) && this.phase === 'open' && !report.sentOn) this.sendReport(report);
          }, report.backoff.next());
          return;
        }
        this.reports.delete(report);
        if (error) report.reject(errorFromServer(error.code, error.message, { taskToken: report.body.taskToken }));
        else report.resolve();
        return;
      }
      case 'heartbeat':
        if (error) pending.reject(errorFromServer(error.code, error.message, { taskToken: pending.taskToken }));
        else pending.resolve({ cancelRequested: (frame as { value?: { cancelRequested?: unknown } }).value?.cancelRequested === true });
        return;
      case 'register':
        // A refused registration (a reserved queue name, too many slots) is a configuration
        // mistake that reconnecting would repeat.
        if (error) this.failForGood(errorFromServer(error.code, error.message));
        return;
      case 'unregister':
        return;
    }
  }

  private register(session: WsSession): void {
    const r = session.registration;
    session.registeredOn = this.socket;
    this.reporterOn = this.socket;
    const id = this.newId();
    this.requests.set(id, { kind: 'register', session });
    // A closed session registers only to report what it still runs: no activity type, no task.
    this.send({
      t: 'register', id, taskQueue: r.taskQueue,
      activityTypes: session.closed ? [] : r.activityTypes, slots: session.closed ? 1 : r.slots,
    });
  }

  private sendReport(report: Report): void {
    clearTimeout(report.retry);
    // The server takes reports only on a connection that registered a queue (it keeps that
    // session for reports after an unregister). Every session shutting down: register one
    // that takes no task.
    if (this.reporterOn !== this.socket) {
      const last = [...this.sessions.values()].at(-1);
      if (last) this.register(last);
    }
    const id = this.newId();
    let bytes = encodeSendable({ ...report.body, id }, this.maxFrameBytes, !report.checked);
    if (typeof bytes === 'string') {
      // The result cannot cross the wire (too large, or a value the server refuses): the attempt
      // fails instead, for good, since running it again would give the same result.
      report.body = {
        t: 'fail', taskToken: report.body.taskToken,
        failure: toFailureInfo(ApplicationFailure.create({
          message: `the activity's ${report.body.t === 'complete' ? 'result' : 'failure'} ${bytes}`, type: 'UnsendableResult', nonRetryable: true,
        })),
      };
      bytes = encode({ ...report.body, id });
    }
    report.checked = true;
    report.sentOn = this.socket;
    this.requests.set(id, { kind: 'report', report });
    this.sendBytes(bytes);
  }

  private send(frame: Record<string, unknown>): void {
    this.sendBytes(encode(frame));
  }

  private sendBytes(bytes: Buffer): void {
    this.socket?.sendBytes(bytes);
  }

  private newId(): number {
    const id = this.nextId;
    this.nextId = id >= MAX_REQUEST_ID ? 1 : id + 1;
    return id;
  }
}
