import { encode } from '../common/codec.ts';
import type { ClientOp } from '../common/wire.ts';
import { SdkSocket } from '../sdk-socket/sdk-socket.ts';
import { remoteError, type ErrorContext } from './errors.ts';

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

/** Per-call options of `WsTransport.call`. */
export interface CallOptions {
  /** How long to wait for the connection when it is down; default the transport's `reconnectWaitMs`. */
  waitMs?: number;
}

/**
 * The largest frame this client reads from the server (ws would take 100 MiB): the largest
 * answer is a whole history, which the server ends at 50 MiB (docs/continue-as-new.md#limits).
 * A larger frame drops the connection (FRAME_TOO_LARGE) and the call fails with CONNECTION_LOST.
 */
const MAX_SERVER_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * One client's calls over the shared SdkSocket (src/sdk-socket), which connects, says hello,
 * pings, reconnects and validates every frame; this class adds what is the client's: a `call`
 * per operation, and waiting for the connection while it is down.
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
 *
 * @example
 * const transport = await WsTransport.open({ url: 'ws://127.0.0.1:7233/ws', namespace: 'default' });
 * const { types } = await transport.call('types', {});
 */
export class WsTransport {
  private constructor(private readonly socket: SdkSocket, private readonly reconnectWaitMs: number) {}

  /**
   * Connects; rejects with the reason (UNAUTHORIZED, FORBIDDEN, CONNECTION_LOST …) when that
   * fails. With `waitForServerMs`, an unreachable server is tried again (with the reconnect
   * backoff) until then; a refusal (token, version) is not, since the next try would repeat it.
   */
  static async open(options: TransportOptions): Promise<WsTransport> {
    const socket = await SdkSocket.open({
      url: options.url, role: 'client', namespace: options.namespace, token: options.token, identity: options.identity,
      reconnect: { initialDelayMs: options.initialDelayMs, maxDelayMs: options.maxDelayMs },
      firstConnectWithinMs: options.waitForServerMs ?? 0, firstConnectOption: 'waitForServerMs',
      attemptTimeoutMs: options.connectTimeoutMs ?? 10_000, pingIntervalMs: options.pingIntervalMs ?? 15_000,
      maxPayload: MAX_SERVER_FRAME_BYTES,
      // A client keeps trying after a refusal on a reconnection (a token may be fixed on the
      // server meanwhile); calls waiting get the refusal at once.
      stopOnRefusal: false,
    });
    return new WsTransport(socket, options.reconnectWaitMs ?? 30_000);
  }

  get url(): string {
    return this.socket.url;
  }

  /** True while the WebSocket is open and welcomed. */
  get connected(): boolean {
    return this.socket.connected;
  }

  /**
   * Sends one `call` and resolves with the server's answer (or rejects with its error, rebuilt).
   * While disconnected it first waits for the connection, at most `waitMs` (default
   * `reconnectWaitMs`; `handle.result()` passes what is left of its own timeout).
   */
  async call(op: ClientOp, args: Record<string, unknown>, context: ErrorContext = {}, options: CallOptions = {}): Promise<unknown> {
    if (!this.socket.connected) await this.socket.whenOpen(options.waitMs ?? this.reconnectWaitMs);
    const answer = await this.socket.request((id) => encode({ t: 'call', id, op, args: stripUndefined(args) }), { what: `"${op}"` });
    if (answer.t === 'ok') return answer.value;
    throw remoteError(answer.code, answer.message, context, answer.supported ?? undefined);
  }

  /** Stops reconnecting, rejects whatever waits, and closes the socket. */
  close(): Promise<void> {
    return this.socket.close();
  }
}

/** msgpack keeps `undefined` as nil, which the server's schemas refuse for optional fields. */
function stripUndefined(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}
