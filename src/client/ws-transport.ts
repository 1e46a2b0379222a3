import { sendCorked } from '../common/corked-send.ts';
import { Liveness } from '../common/liveness.ts';
import WebSocket from 'ws';
import { decode, encode } from '../common/codec.ts';
import { PerdureError } from '../common/errors.ts';
import { PROTOCOL_VERSION, type ClientOp } from '../common/wire.ts';
import { ConnectionLostError, remoteError, type ErrorContext } from './errors.ts';

export interface TransportOptions {
  /** `ws://host:port/ws` (see webSocketUrl). */
  url: string;
  namespace: string;
  token?: string;
  identity?: string;
  /** Backoff between reconnection attempts: starts here, doubles, capped at `maxDelayMs`. Default 100 ms. */
  initialDelayMs?: number;
  /** Default 5 s. */
  maxDelayMs?: number;
  /** How long a call made while disconnected waits for the connection to come back. Default 30 s; `Infinity` waits for ever. */
  reconnectWaitMs?: number;
  /**
   * How long `open()` retries a server that refuses connections (still starting, restarting),
   * with the reconnect backoff, before it rejects with CONNECTION_LOST. Default 0: one attempt.
   */
  waitForServerMs?: number;
  /** Time allowed for the upgrade plus hello/welcome. Default 10 s. */
  connectTimeoutMs?: number;
  /** The client pings the server this often; a server that misses a pong is dropped (half-open). Default 15 s. */
  pingIntervalMs?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  context: ErrorContext;
}

interface ReadyWaiter {
  resolve(): void;
  reject(error: Error): void;
  /** Absent for a wait without limit. */
  timer?: ReturnType<typeof setTimeout>;
}

/** Per-call options of `WsTransport.call`. */
export interface CallOptions {
  /** How long to wait for the connection when it is down; default the transport's `reconnectWaitMs`. */
  waitMs?: number;
}

/** The longest delay setTimeout honours; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Errors that another attempt with the same settings cannot fix: waiting calls get them at once. */
const PERMANENT = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'PROTOCOL_VERSION']);

/**
 * One client's WebSocket to the server: hello/welcome, request ids, and reconnection.
 *
 * ```
 *  client                                       server
 *   │── upgrade (Authorization: Bearer …) ─────────►│  401 { code, message } → UNAUTHORIZED
 *   │── hello { v, role: 'client', namespace } ────►│
 *   │◄──────────────────────── welcome | error ─────│  error → FORBIDDEN, PROTOCOL_VERSION …
 *   │── call { id, op, args } ─────────────────────►│
 *   │◄────────── ok { id, value } | error { id } ───│
 *   ╳ connection drops: calls in flight reject with CONNECTION_LOST (sent: true, retryable);
 *     reconnect with backoff (100 ms, 200 ms, … 5 s, jittered) without limit; calls made
 *     meanwhile wait for the connection (up to reconnectWaitMs, or the call's own waitMs:
 *     handle.result() waits until its timeout), then go out.
 * ```
 */
export class WsTransport {
  private ws?: WebSocket;
  private state: 'connecting' | 'open' | 'reconnecting' | 'closed' = 'connecting';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly readyWaiters = new Set<ReadyWaiter>();
  private lastError?: PerdureError;
  private attempt = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private pinger?: ReturnType<typeof setInterval>;
  private readonly options: Required<Omit<TransportOptions, 'token' | 'identity'>> & Pick<TransportOptions, 'token' | 'identity'>;

  private constructor(options: TransportOptions) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as TransportOptions;
    this.options = {
      initialDelayMs: 100, maxDelayMs: 5_000, reconnectWaitMs: 30_000, waitForServerMs: 0, connectTimeoutMs: 10_000, pingIntervalMs: 15_000,
      ...given,
    };
  }

  /**
   * Connects; rejects with the reason (UNAUTHORIZED, FORBIDDEN, CONNECTION_LOST …) when that
   * fails. With `waitForServerMs`, an unreachable server is tried again (with the reconnect
   * backoff) until then; a refusal (token, version) is not, since the next try would repeat it.
   */
  static async open(options: TransportOptions): Promise<WsTransport> {
    const transport = new WsTransport(options);
    const deadline = Date.now() + transport.options.waitForServerMs;
    for (;;) {
      try {
        transport.adopt(await transport.connect());
        return transport;
      } catch (error) {
        const unreachable = (error as PerdureError).code === 'CONNECTION_LOST';
        const delay = transport.nextDelay();
        if (unreachable && Date.now() + delay <= deadline) {
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        const waited = transport.options.waitForServerMs;
        if (!unreachable || waited <= 0) throw error;
        throw new ConnectionLostError(`${(error as Error).message.replace(/^CONNECTION_LOST: /, '')}; tried for ${waited} ms (waitForServerMs). ` +
          'Is the server running at that address?', false);
      }
    }
  }

  get url(): string {
    return this.options.url;
  }

  /** True while the WebSocket is open and welcomed. */
  get connected(): boolean {
    return this.state === 'open';
  }

  /**
   * Sends one `call` and resolves with the server's answer (or rejects with its error, rebuilt).
   * While disconnected it first waits for the connection, at most `waitMs` (default
   * `reconnectWaitMs`; `handle.result()` passes what is left of its own timeout).
   */
  async call(op: ClientOp, args: Record<string, unknown>, context: ErrorContext = {}, options: CallOptions = {}): Promise<unknown> {
    if (this.state !== 'open') await this.ready(options.waitMs ?? this.options.reconnectWaitMs);
    const ws = this.ws!;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      let bytes: Buffer;
      try {
        bytes = encode({ t: 'call', id, op, args: stripUndefined(args) });
      } catch (error) {
        reject(error);
        return;
      }
      this.pending.set(id, { resolve, reject, context });
      sendCorked(ws, bytes, (error) => {
        if (error && this.pending.delete(id)) reject(new ConnectionLostError(`the request could not be sent to ${this.url}: ${error.message}`, true));
      });
    });
  }

  /** Stops reconnecting, rejects whatever waits, and closes the socket. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pinger);
    const closed = new ConnectionLostError('the client was closed', false);
    this.rejectWaiters(closed);
    this.rejectPending(new ConnectionLostError('the client was closed while the request waited for an answer', true));
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => ws.terminate(), 2_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000, 'client closed');
    });
  }

  /** Waits until the connection is (re)established, at most `waitMs` (`Infinity`: for as long as it takes). */
  private ready(waitMs: number): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new ConnectionLostError('the client is closed', false));
    if (this.lastError && PERMANENT.has(this.lastError.code)) return Promise.reject(this.lastError);
    return new Promise((resolve, reject) => {
      const waiter: ReadyWaiter = { resolve, reject };
      // setTimeout fires at once for a delay past 2^31-1 ms (or Infinity): such a wait has no timer.
      if (waitMs <= MAX_TIMER_MS) {
        waiter.timer = setTimeout(() => {
          this.readyWaiters.delete(waiter);
          const why = this.lastError ? ` (last attempt: ${this.lastError.message})` : '';
          reject(new ConnectionLostError(`not connected to ${this.url} after waiting ${Math.round(waitMs)} ms${why}`, false));
        }, waitMs);
      }
      this.readyWaiters.add(waiter);
    });
  }

  /** One connection attempt: upgrade, hello, welcome. Resolves with the welcomed socket. */
  private connect(): Promise<WebSocket> {
    const { url, token, namespace, identity, connectTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        handshakeTimeout: connectTimeoutMs,
        perMessageDeflate: false,
        maxPayload: MAX_SERVER_FRAME_BYTES,
      });
      let settled = false;
      const timer = setTimeout(() => fail(new ConnectionLostError(`no welcome from ${url} within ${connectTimeoutMs} ms`, false)), connectTimeoutMs);
      const fail = (error: PerdureError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.removeAllListeners('message');
        ws.terminate();
        reject(error);
      };
      ws.on('error', (error: Error & { code?: string }) => {
        fail(new ConnectionLostError(`cannot reach ${url}: ${error.code ?? error.message}`, false));
      });
      ws.on('unexpected-response', (_request, response) => {
        // The server refuses an upgrade with a JSON body { code, message } (401 without a valid token).
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < 64_000) body += chunk;
        });
        response.on('error', () => {});
        response.on('end', () => {
          const parsed = parseErrorBody(body);
          const code = parsed?.code ?? (response.statusCode === 401 ? 'UNAUTHORIZED' : 'CONNECTION_LOST');
          fail(remoteError(code, parsed?.message ?? `${url} answered the upgrade with HTTP ${response.statusCode}`));
        });
      });
      ws.on('close', (code, reason) => {
        fail(new ConnectionLostError(`${url} closed the connection before welcome (${code} ${reason.toString()})`, false));
      });
      ws.on('open', () => {
        ws.send(encode({ t: 'hello', v: PROTOCOL_VERSION, role: 'client', namespace, identity }), { binary: true }, () => {});
      });
      ws.on('message', (data: Buffer) => {
        const frame = decodeFrame(data);
        if (frame?.t === 'welcome') {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          ws.removeAllListeners('message');
          ws.removeAllListeners('close');
          ws.removeAllListeners('unexpected-response');
          resolve(ws);
        } else if (frame?.t === 'error') {
          fail(remoteError(String(frame.code), String(frame.message), {}, frame.supported as number[] | undefined));
        }
      });
    });
  }

  /** Makes a welcomed socket the current one. */
  private adopt(ws: WebSocket): void {
    if (this.state === 'closed') {
      ws.terminate();
      return;
    }
    this.ws = ws;
    this.state = 'open';
    this.attempt = 0;
    this.lastError = undefined;
    ws.on('message', (data: Buffer) => this.receive(ws, data));
    ws.on('close', () => this.dropped(ws));
    // 'error' is followed by 'close'; the listener keeps ws from throwing.
    ws.removeAllListeners('error');
    ws.on('error', () => {});
    const liveness = new Liveness(ws);
    clearInterval(this.pinger);
    this.pinger = setInterval(() => liveness.ping() || ws.terminate(), this.options.pingIntervalMs);
    this.pinger.unref();
    for (const waiter of this.readyWaiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.readyWaiters.clear();
  }

  private receive(ws: WebSocket, data: Buffer): void {
    const frame = decodeFrame(data);
    if (!frame) return;
    if (frame.t === 'error' && typeof frame.id !== 'number') {
      // A connection-level error: the server closes next; calls in flight learn why from it.
      fatal.set(ws, remoteError(String(frame.code), String(frame.message)));
      return;
    }
    if (typeof frame.id !== 'number') return;
    const pending = this.pending.get(frame.id);
    if (!pending) return;
    this.pending.delete(frame.id);
    if (frame.t === 'ok') pending.resolve(frame.value);
    else if (frame.t === 'error') pending.reject(remoteError(String(frame.code), String(frame.message), pending.context));
  }

  private dropped(ws: WebSocket): void {
    if (ws !== this.ws) return;
    clearInterval(this.pinger);
    this.ws = undefined;
    const why = fatal.get(ws);
    this.rejectPending(new ConnectionLostError(
      `the connection to ${this.url} dropped while the request waited for an answer${why ? ` (the server said ${why.message})` : ''}; ` +
        'it may or may not have taken effect', true));
    if (this.state === 'closed') return;
    this.state = 'reconnecting';
    this.scheduleReconnect();
  }

  /** The next reconnect delay; each call counts one more failed attempt. */
  private nextDelay(): number {
    const { initialDelayMs, maxDelayMs } = this.options;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    // Jitter spreads the reconnections of many clients after a server restart.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private scheduleReconnect(): void {
    const delay = this.nextDelay();
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        (ws) => this.adopt(ws),
        (error: PerdureError) => {
          if (this.state === 'closed') return;
          this.lastError = error;
          if (PERMANENT.has(error.code)) this.rejectWaiters(error);
          this.scheduleReconnect();
        },
      );
    }, delay);
  }

  private rejectPending(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }

  private rejectWaiters(error: Error): void {
    for (const waiter of this.readyWaiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.readyWaiters.clear();
  }
}

/** The last connection-level error frame each socket received. */
const fatal = new WeakMap<WebSocket, PerdureError>();

/**
 * The largest frame this client reads from the server (ws would take 100 MiB): the largest
 * answer is a whole history, which the server ends at 50 MiB (docs/continue-as-new.md#limits).
 * A larger frame closes the connection (1009) and the call fails with CONNECTION_LOST.
 */
const MAX_SERVER_FRAME_BYTES = 64 * 1024 * 1024;

function decodeFrame(data: Buffer): Record<string, unknown> | undefined {
  try {
    const value = decode(data);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseErrorBody(body: string): { code: string; message: string } | undefined {
  try {
    const value = JSON.parse(body) as { code?: unknown; message?: unknown };
    return typeof value.code === 'string' && typeof value.message === 'string' ? { code: value.code, message: value.message } : undefined;
  } catch {
    return undefined;
  }
}

/** msgpack keeps `undefined` as nil, which the server's schemas refuse for optional fields. */
function stripUndefined(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}
