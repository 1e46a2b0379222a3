import { sendCorked } from '../common/corked-send.ts';
import { Liveness } from '../common/liveness.ts';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { decode, encode } from '../common/codec.ts';
import { PerdureError, ProtocolError } from '../common/errors.ts';
import { describeZodError, helloFrame, PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, type HelloFrame, type ServerFrame } from '../common/wire.ts';
import type { Authenticator, TokenGrant } from './auth.ts';
import type { NodeList } from '../cluster/cluster-membership.ts';

/** What runs a peer once its hello is accepted: a worker session or a client session. */
export interface PeerRole {
  /** Handles one decoded frame (not yet validated beyond being a map with a string `t`). */
  handle(frame: Record<string, unknown>): void;
  /** The connection closed: release what the role holds. */
  closed(): void;
}

export interface PeerContext {
  hello: HelloFrame;
  /** The token the connection was opened with (undefined when the server has none). */
  grant: TokenGrant | undefined;
  send(frame: ServerFrame): void;
  /** Sends an error frame and closes the connection (for errors a peer cannot recover from). */
  fail(error: PerdureError, closeCode?: number): void;
  /** Counts a request in flight; throws TOO_MANY_REQUESTS past the limit. Returns its release. */
  track(): () => void;
}

export interface PeerOptions {
  auth: Authenticator;
  grant: TokenGrant | undefined;
  sessionId: string;
  serverVersion: string;
  maxInFlightRequests: number;
  /** A connection that has not sent hello after this long is closed (HELLO_TIMEOUT). */
  helloTimeoutMs: number;
  /** Unread bytes held for the peer (ws `bufferedAmount`) past which it is dropped (SEND_BUFFER_FULL). */
  maxSendBufferBytes: number;
  makeRole(context: PeerContext): PeerRole;
  /** The cluster's live nodes, for the welcome of a worker that follows the cluster (absent on a single node). */
  nodeList?: NodeList;
  onProtocolError(code: string): void;
  /** The peer was dropped for not reading its socket: for the log. */
  onDropped?(message: string): void;
}

/** WebSocket close codes (RFC 6455). */
export const CLOSE = { normal: 1000, goingAway: 1001, protocol: 1002, policy: 1008, tooBig: 1009, internal: 1011 } as const;

/**
 * One WebSocket peer. Every frame passes through here first, like ws's receiver: decode
 * (msgpack with safe options and a depth limit), check the shape, and answer anything wrong
 * with one `error` frame carrying a stable code. The first frame must be `hello`.
 */
export class PeerConnection {
  private role?: PeerRole;
  private inFlight = 0;
  private readonly liveness: Liveness;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private dropped = false;
  private bufferCheck = false;

  constructor(private readonly ws: WebSocket, private readonly options: PeerOptions) {
    ws.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
    this.liveness = new Liveness(ws);
    ws.on('close', () => {
      clearTimeout(this.helloTimer);
      this.role?.closed();
    });
    ws.on('error', (error: Error & { code?: string }) => {
      // ws emits 'error' for a frame over maxPayload (and closes with 1009); without a listener
      // the process would die.
      const code = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'FRAME_TOO_LARGE' : 'PROTOCOL_ERROR';
      this.options.onProtocolError(code);
      this.role?.closed();
      this.role = undefined;
      if (code === 'FRAME_TOO_LARGE') destroyAfterClose(ws);
    });
    // Pings keep a silent connection alive, so without this a peer that never says hello would
    // hold its socket forever (issue 15, bug 6).
    this.helloTimer = setTimeout(() => {
      if (this.role) return;
      this.fail(new ProtocolError('HELLO_TIMEOUT',
        `no hello within ${options.helloTimeoutMs} ms of connecting: send hello as the first frame (see docs/protocol.md).`), CLOSE.policy);
    }, options.helloTimeoutMs);
    this.helloTimer.unref();
  }

  send(frame: ServerFrame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    let bytes: Buffer;
    try {
      bytes = encode(frame);
    } catch (error) {
      // A value that cannot cross the wire must not take the server down: answer the request
      // with the reason instead.
      const id = 'id' in frame ? frame.id : undefined;
      bytes = encode({ t: 'error', id, code: 'INTERNAL', message: `INTERNAL: the answer could not be encoded: ${(error as Error).message}` });
    }
    sendCorked(this.ws, bytes);
    // A peer that sends requests but never reads its socket would make the server hold every
    // answer (issue 15, bug 6: 1 GB). Past the cap it is dropped: the data is freed at once.
    // Checked once the turn's frames are uncorked and handed to the kernel (sendCorked's
    // setImmediate runs first: it was queued first), so a burst to a peer that reads is not
    // counted as unread.
    if (!this.bufferCheck) {
      this.bufferCheck = true;
      setImmediate(() => {
        this.bufferCheck = false;
        if (this.ws.bufferedAmount > this.options.maxSendBufferBytes) this.dropUnread();
      });
    }
  }

  /**
   * Drops a peer that does not read. The error frame and the close (1008, SEND_BUFFER_FULL) are
   * queued for a peer that may yet read them; the socket is destroyed without waiting for it,
   * which frees what it held.
   */
  private dropUnread(): void {
    if (this.dropped) return;
    this.dropped = true;
    const buffered = this.ws.bufferedAmount;
    this.options.onProtocolError('SEND_BUFFER_FULL');
    this.role?.closed();
    this.role = undefined;
    const message = `SEND_BUFFER_FULL: ${buffered} bytes sent to this connection were not read, more than the limit of ` +
      `${this.options.maxSendBufferBytes}: read the socket while sending requests, or ask for less at once.`;
    this.ws.close(CLOSE.policy, 'SEND_BUFFER_FULL');
    this.ws.terminate();
    this.options.onDropped?.(message);
  }

  /** Ping/pong liveness: a peer that did not answer the last ping is dropped. */
  ping(): void {
    if (!this.liveness.ping()) this.ws.terminate();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  private receive(data: Buffer, isBinary: boolean): void {
    let frame: Record<string, unknown>;
    try {
      if (!isBinary) throw new ProtocolError('PROTOCOL_ERROR', 'text frames are not part of the protocol: send one msgpack map per binary frame.');
      const value = decode(data);
      if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { t?: unknown }).t !== 'string') {
        throw new ProtocolError('PROTOCOL_ERROR', 'a frame must be a msgpack map with a string "t" naming its type.');
      }
      frame = value as Record<string, unknown>;
    } catch (error) {
      this.fail(error instanceof ProtocolError ? error : new ProtocolError('PROTOCOL_ERROR', `undecodable frame: ${(error as Error).message}`), CLOSE.protocol);
      return;
    }
    if (!this.role) {
      this.hello(frame);
      return;
    }
    try {
      this.role.handle(frame);
    } catch (error) {
      this.fail(error instanceof PerdureError ? error : new ProtocolError('PROTOCOL_ERROR', (error as Error).message), CLOSE.protocol);
    }
  }

  private hello(frame: Record<string, unknown>): void {
    clearTimeout(this.helloTimer);
    const parsed = helloFrame.safeParse(frame);
    if (!parsed.success) {
      this.fail(new ProtocolError('PROTOCOL_ERROR', `the first frame must be a valid hello: ${describeZodError(parsed.error)}`), CLOSE.protocol);
      return;
    }
    const hello = parsed.data;
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(hello.v)) {
      this.fail(new ProtocolError('PROTOCOL_VERSION',
        `protocol version ${hello.v} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}.`, SUPPORTED_PROTOCOL_VERSIONS), CLOSE.protocol);
      return;
    }
    try {
      this.options.auth.authorize(this.options.grant, hello.namespace, hello.role);
    } catch (error) {
      this.fail(error as PerdureError, CLOSE.policy);
      return;
    }
    this.role = this.options.makeRole({
      hello,
      grant: this.options.grant,
      send: (f) => this.send(f),
      fail: (error, code) => this.fail(error, code),
      track: () => this.track(),
    });
    // Only a worker that asked for it hears of the other nodes: the welcome of every other peer
    // is as it was before clusters.
    const cluster = hello.cluster && hello.role === 'worker' ? this.options.nodeList?.current() : undefined;
    this.send({
      t: 'welcome', v: PROTOCOL_VERSION, sessionId: this.options.sessionId, serverVersion: this.options.serverVersion,
      ...(cluster ? { node: cluster.node, nodes: cluster.nodes } : {}),
    });
  }

  private track(): () => void {
    if (this.inFlight >= this.options.maxInFlightRequests) {
      throw new ProtocolError('TOO_MANY_REQUESTS', `more than ${this.options.maxInFlightRequests} requests waiting for an answer on this connection.`);
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (!released) this.inFlight--;
      released = true;
    };
  }

  private fail(error: PerdureError, closeCode: number = CLOSE.protocol): void {
    this.options.onProtocolError(error.code);
    const supported = error instanceof ProtocolError ? error.supported : undefined;
    this.send({ t: 'error', code: error.code, message: error.message, supported, fatal: true });
    this.close(closeCode, error.code);
  }
}

/**
 * How long the socket of an oversized frame stays (paused) after its close frame is written. A
 * destroy with unread bytes in the receive buffer sends a TCP reset, and a reset that reaches
 * the peer before it has read the close frame discards it: the peer would see 1006, not 1009.
 */
const CLOSE_GRACE_MS = 1_000;

/**
 * After a frame over the limit, ws sends the 1009 close and then keeps reading, discarding the
 * rest of the frame until the peer stops (100 MiB cost ~43 MiB of RSS, issue 15, bug 7). Stop
 * reading instead (the peer's writes then stall in the kernel's buffers), and destroy the socket
 * shortly after the close frame is written.
 */
function destroyAfterClose(ws: WebSocket): void {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  if (!socket) return;
  // ws resumes the socket on the next tick (to drain it): pause after that.
  setImmediate(() => socket.pause());
  const destroySoon = () => setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  if (socket.writableFinished) destroySoon();
  else socket.once('finish', destroySoon);
}
