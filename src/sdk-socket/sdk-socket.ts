import type { PerdureError } from '../common/errors.ts';
import { Backoff } from './backoff.ts';
import { ConnectionLostError } from './connection-lost.ts';
import { HelloSocket, type SocketEnd } from './hello-socket.ts';
import { PendingRequests } from './pending-requests.ts';
import type { AnswerFrame, PushedFrame, WelcomeFrame } from './server-frames.ts';

/** How the worker and the client connect; each sets its own defaults. */
export interface SdkSocketOptions {
  /** `ws://host:port/ws` (see webSocketUrl). */
  url: string;
  role: 'worker' | 'client';
  namespace: string;
  token?: string;
  identity?: string;
  /** A worker that follows a cluster: its hello asks for the node list (see WsConnectionOptions.followCluster). */
  followCluster?: boolean;
  /** Reconnect delays: exponential from `initialDelayMs` (100) to `maxDelayMs` (5,000), with jitter. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * How long `open()` retries a server it cannot connect to, with the reconnect backoff, before
   * it rejects with CONNECTION_LOST; 0 makes one attempt, `Infinity` waits for ever.
   */
  firstConnectWithinMs: number;
  /** The option `firstConnectWithinMs` came from, named in the error when it passes. */
  firstConnectOption: string;
  /** Time allowed for one attempt: the upgrade plus hello and welcome. Default 10,000 ms. */
  attemptTimeoutMs?: number;
  /** A silent server is pinged this often and dropped after two silent intervals. */
  pingIntervalMs: number;
  /** Largest frame accepted from the server; a larger one drops the connection (FRAME_TOO_LARGE). */
  maxPayload: number;
  /**
   * After a refusal (token, namespace, version) on a reconnection: true ends the socket for good
   * (a worker), false keeps trying while calls waiting get the refusal (a client, whose token may
   * be fixed on the server meanwhile). A refusal of the first connection always ends it.
   */
  stopOnRefusal: boolean;
  /** Welcomed, the first time or again: the owner sends what a new connection needs. */
  onWelcome?(welcome: { sessionId: string; reconnected: boolean; generation: number; node?: string; nodes?: readonly string[] }): void;
  /** A frame that is no answer to a request (task, cancel). */
  onFrame?(frame: PushedFrame): void;
  /** A socket ended and another attempt follows in `retryInMs`. */
  onDisconnect?(lost: { error: PerdureError; retryInMs: number }): void;
  /** The socket ended for good with `error` (not called by close()). */
  onFailed?(error: Error): void;
}

/** Refusals that another attempt with the same settings cannot fix: waiting calls get them at once. */
const PERMANENT = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'PROTOCOL_VERSION']);
const MAX_TIMER_MS = 2 ** 31 - 1;

interface ReadyWaiter {
  resolve(): void;
  reject(error: Error): void;
  /** Absent for a wait without limit. */
  timer?: ReturnType<typeof setTimeout>;
}

type State = 'connecting' | 'open' | 'waiting' | 'closed';

/**
 * The SDKs' connection to a server, shared by the worker and the client: one HelloSocket at a
 * time, made again with backoff whenever it ends, and requests matched to their answers.
 *
 * ```
 *  sdk                                            server
 *   │── upgrade (Authorization: Bearer …) ─────────►│  401/403/404 → fatal, no retry
 *   │── hello { v, role, namespace, identity } ────►│
 *   │◄──────────────────────── welcome | error ─────│  error → fatal (UNAUTHORIZED, PROTOCOL_VERSION …)
 *   │── request { id, … } ─────────────────────────►│  id from PendingRequests
 *   │◄──────────── ok { id } | error { id } ────────│  settles that request
 *   │◄──────────────────────── task / cancel ───────│  onFrame
 *   │── ping ──────────────────────────────────────►│  no pong (nor frame) by the next: dropped
 *   ╳ lost (or a frame that fails validation, or one over maxPayload): requests waiting reject
 *     with ConnectionLostError (sent: true, retryable); wait 100 ms … 5 s (jitter), then again
 * ```
 *
 * Invariant: a request's promise settles exactly once — with its answer, with TIMEOUT, or with
 * CONNECTION_LOST when the socket it went out on ends — and an answer is only taken from that
 * socket, since requests die with it. What must survive a reconnect (a worker's reports) is the
 * owner's to send again from `onWelcome`.
 *
 * @example
 * const socket = await SdkSocket.open({ url, role: 'client', namespace: 'default', firstConnectWithinMs: 0,
 *   firstConnectOption: 'waitForServerMs', pingIntervalMs: 15_000, maxPayload: 64 * 2 ** 20, stopOnRefusal: false });
 * const answer = await socket.request((id) => encode({ t: 'call', id, op: 'types', args: {} }));
 */
export class SdkSocket {
  /** Resolves once closed with close(); rejects when the socket failed for good (bad token, version). */
  readonly closed: Promise<void>;

  private state: State = 'connecting';
  private socket?: HelloSocket;
  private readonly backoff: Backoff;
  private readonly pending = new PendingRequests();
  private readonly waiters = new Set<ReadyWaiter>();
  private readonly connectDeadline: number;
  private everConnected = false;
  private generationCount = 0;
  private lastError?: PerdureError;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private readonly ready: Promise<void>;
  private settleReady!: { resolve(): void; reject(error: Error): void };
  private settleClosed!: { resolve(): void; reject(error: Error): void };

  /** Makes the socket; nothing connects until start() (open() does both). */
  constructor(private readonly options: SdkSocketOptions) {
    this.backoff = new Backoff({ initialMs: options.reconnect?.initialDelayMs, maxMs: options.reconnect?.maxDelayMs });
    this.connectDeadline = Date.now() + options.firstConnectWithinMs;
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.closed = new Promise((resolve, reject) => (this.settleClosed = { resolve, reject }));
    // Whoever awaits these gets the rejection; nobody awaiting them must not crash the process.
    this.ready.catch(() => {});
    this.closed.catch(() => {});
  }

  /**
   * Connects and says hello; resolves once the server welcomed it. Unreachable servers are tried
   * again until `firstConnectWithinMs`; a refusal (token, version) is not.
   *
   * @throws UnauthorizedError, ForbiddenError, ProtocolError (PROTOCOL_VERSION with `supported`),
   *   InvalidArgumentError (no endpoint at the URL), or ConnectionLostError.
   */
  static async open(options: SdkSocketOptions): Promise<SdkSocket> {
    const socket = new SdkSocket(options);
    await socket.start();
    return socket;
  }

  /** Starts connecting; resolves (or rejects) like open(). For owners that must hold the socket before its first welcome. */
  start(): Promise<void> {
    if (this.state === 'connecting' && !this.socket && !this.everConnected) this.connect();
    return this.ready;
  }

  get url(): string {
    return this.options.url;
  }

  /** True while a socket is open and welcomed. */
  get connected(): boolean {
    return this.state === 'open';
  }

  /** Counts welcomes: what was done on one connection (a registration) is known by its generation. */
  get generation(): number {
    return this.generationCount;
  }

  /**
   * Sends a request made by `build(id)` and resolves with its answer (`ok` or `error`). Rejects
   * with ConnectionLostError (`sent: false`) when not connected, (`sent: true`) when the socket
   * ends first, and TimeoutError after `timeoutMs` (default: no limit). An error thrown by
   * `build` (the request cannot be encoded) is thrown by request itself, before anything is sent.
   */
  request(build: (id: number) => Buffer, options: { timeoutMs?: number; what?: string } = {}): Promise<AnswerFrame> {
    const socket = this.socket;
    if (this.state !== 'open' || !socket) return Promise.reject(new ConnectionLostError(`not connected to ${this.url}; the request was not sent`, false));
    const { id, answer } = this.pending.add(options.timeoutMs ?? Infinity, options.what ?? 'a request');
    let bytes: Buffer;
    try {
      bytes = build(id);
    } catch (error) {
      this.pending.reject(id, error as Error);
      answer.catch(() => {});
      throw error;
    }
    socket.sendBytes(bytes, (error) => {
      if (error) this.pending.reject(id, new ConnectionLostError(`the request could not be sent to ${this.url}: ${error.message}`, true, { cause: error }));
    });
    return answer;
  }

  /** Waits until the socket is (re)connected, at most `waitMs` (`Infinity`: for as long as it takes). */
  whenOpen(waitMs: number): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new ConnectionLostError(`the ${this.options.role} is closed`, false));
    if (this.lastError && PERMANENT.has(this.lastError.code)) return Promise.reject(this.lastError);
    return new Promise((resolve, reject) => {
      const waiter: ReadyWaiter = { resolve, reject };
      // setTimeout fires at once for a delay past 2^31-1 ms (or Infinity): such a wait has no timer.
      if (waitMs <= MAX_TIMER_MS) {
        waiter.timer = setTimeout(() => {
          this.waiters.delete(waiter);
          const why = this.lastError ? ` (last attempt: ${this.lastError.message})` : '';
          reject(new ConnectionLostError(`not connected to ${this.url} after waiting ${Math.round(waitMs)} ms${why}`, false));
        }, waitMs);
      }
      this.waiters.add(waiter);
    });
  }

  /** Ends the socket for good with `error` (a refusal the owner learnt of): `closed` rejects with it. */
  fail(error: PerdureError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    this.pending.rejectAll(error);
    this.rejectWaiters(error);
    this.settleReady.reject(error);
    this.settleClosed.reject(error);
    const socket = this.socket;
    this.socket = undefined;
    socket?.drop(error, true);
    this.options.onFailed?.(error);
  }

  /** Stops reconnecting, rejects whatever waits (CONNECTION_LOST), and closes the socket (1000). */
  async close(): Promise<void> {
    if (this.state === 'closed') return this.closed.catch(() => {});
    const role = this.options.role;
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    this.settleReady.reject(new ConnectionLostError(`the ${role} was closed before ${this.url} welcomed it`, false));
    this.rejectWaiters(new ConnectionLostError(`the ${role} was closed`, false));
    this.pending.rejectAll(new ConnectionLostError(`the ${role} was closed while the request waited for an answer`, true));
    const socket = this.socket;
    this.socket = undefined;
    await socket?.close(`${role} closing`);
    this.settleClosed.resolve();
  }

  private connect(): void {
    this.state = 'connecting';
    const { url, token, role, namespace, identity, followCluster, attemptTimeoutMs = 10_000, pingIntervalMs, maxPayload } = this.options;
    const socket: HelloSocket = new HelloSocket({ url, token, role, namespace, identity, followCluster, attemptTimeoutMs, pingIntervalMs, maxPayload }, {
      welcomed: (welcome) => this.socket === socket && this.welcomed(welcome),
      frame: (frame) => {
        if (this.socket !== socket) return;
        if (frame.t === 'ok' || frame.t === 'error') this.pending.settle(frame as AnswerFrame);
        else this.options.onFrame?.(frame);
      },
      ended: (end) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.ended(end);
      },
    });
    this.socket = socket;
  }

  private welcomed({ sessionId, node, nodes }: WelcomeFrame): void {
    this.state = 'open';
    this.backoff.reset();
    this.lastError = undefined;
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.generationCount++;
    this.options.onWelcome?.({ sessionId, reconnected, generation: this.generationCount, ...(nodes ? { node, nodes } : {}) });
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.waiters.clear();
    this.settleReady.resolve();
  }

  private ended(end: SocketEnd): void {
    const { error } = end;
    this.pending.rejectAll(new ConnectionLostError(
      `the connection to ${this.url} dropped while the request waited for an answer (${error.message}); it may or may not have taken effect`,
      true, { cause: error }));
    if (this.state === 'closed') return;
    this.lastError = error;
    if (end.fatal && (this.options.stopOnRefusal || !this.everConnected)) {
      this.fail(error);
      return;
    }
    if (end.fatal && PERMANENT.has(error.code)) this.rejectWaiters(error);
    const delay = this.backoff.next();
    if (!this.everConnected && Date.now() + delay > this.connectDeadline) {
      const { firstConnectWithinMs: within, firstConnectOption } = this.options;
      this.fail(within <= 0 ? error : new ConnectionLostError(
        `could not connect to ${this.url}: tried for ${within} ms (${firstConnectOption}); last attempt: ${error.message}. Is the server running there?`,
        false, { cause: error }));
      return;
    }
    this.state = 'waiting';
    this.options.onDisconnect?.({ error, retryInMs: delay });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private rejectWaiters(error: Error): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters.clear();
  }
}
