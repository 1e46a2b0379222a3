import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { encode } from '../common/codec.ts';
import { sendCorked } from '../common/corked-send.ts';
import { InvalidArgumentError, ProtocolError, type PerdureError } from '../common/errors.ts';
import { Liveness } from '../common/liveness.ts';
import { PROTOCOL_VERSION } from '../common/wire.ts';
import { ConnectionLostError } from './connection-lost.ts';
import { errorFromServer, parseServerFrame, type IncomingFrame, type WelcomeFrame } from './server-frames.ts';

/** What one socket needs to know to say hello. */
export interface HelloSocketOptions {
  url: string;
  token?: string;
  role: 'worker' | 'client';
  namespace: string;
  identity?: string;
  /** Says `cluster: true` in the hello: a worker that keeps a connection to every node of a cluster. */
  followCluster?: boolean;
  /** Time allowed for the upgrade plus hello and welcome. */
  attemptTimeoutMs: number;
  pingIntervalMs: number;
  /** Largest frame accepted from the server (ws `maxPayload`; its own default is 100 MiB). */
  maxPayload: number;
}

/** Why a socket ended. `fatal`: the server refused this peer, and would refuse it again. */
export interface SocketEnd {
  error: PerdureError;
  fatal: boolean;
}

export interface HelloSocketHandlers {
  welcomed(welcome: WelcomeFrame): void;
  frame(frame: Exclude<IncomingFrame, { t: 'welcome' }>): void;
  /** Called once, whatever ended the socket (never before it was opened). */
  ended(end: SocketEnd): void;
}

/**
 * One WebSocket to the server, from the upgrade to its close: says hello, waits for welcome,
 * validates every frame, pings a quiet server. It never reconnects — SdkSocket makes a new one —
 * and it decides how it ended: a refused upgrade (401, 403, 404) or an error frame answering
 * hello is fatal; anything else (refused connection, lost socket, junk from the server, a frame
 * over `maxPayload`, silence) is not.
 */
export class HelloSocket {
  private readonly ws: WebSocket;
  private welcomedAt = false;
  private opened = false;
  private end?: SocketEnd;
  private readonly liveness: Liveness;
  private pinger?: ReturnType<typeof setInterval>;
  private readonly welcomeTimer: ReturnType<typeof setTimeout>;

  constructor(private readonly options: HelloSocketOptions, private readonly handlers: HelloSocketHandlers) {
    const { url, token, attemptTimeoutMs } = options;
    const ws = new WebSocket(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      perMessageDeflate: false, followRedirects: false, handshakeTimeout: attemptTimeoutMs, maxPayload: options.maxPayload,
    });
    this.ws = ws;
    this.welcomeTimer = setTimeout(() => this.drop(new ConnectionLostError(`no welcome from ${url} within ${attemptTimeoutMs} ms`, false)), attemptTimeoutMs);
    ws.on('unexpected-response', (_request, response) => this.refused(response));
    ws.on('open', () => {
      this.opened = true;
      const { role, namespace, identity, followCluster } = options;
      this.send({ t: 'hello', v: PROTOCOL_VERSION, role, namespace, ...(identity === undefined ? {} : { identity }), ...(followCluster ? { cluster: true } : {}) });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    this.liveness = new Liveness(ws);
    // ws emits 'error' for refused connections, resets and frames it refuses (over maxPayload,
    // bad framing); 'close' follows. Without this listener such an error kills the process.
    ws.on('error', (error: Error & { code?: string }) => this.decide(this.socketError(error), false));
    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(this.welcomeTimer);
      clearInterval(this.pinger);
      this.decide(new ConnectionLostError(`connection to ${url} closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`, false), false);
      this.handlers.ended(this.end!);
    });
  }

  /** Welcomed, and open for frames. */
  get open(): boolean {
    return this.welcomedAt && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Record<string, unknown>): void {
    this.sendBytes(encode(frame));
  }

  /** Sends one binary frame; `sent` hears a failed write (the socket then closes, and 'close' takes it from there). */
  sendBytes(bytes: Buffer, sent?: (error?: Error) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      sent?.(new Error('the socket is not open'));
      return;
    }
    sendCorked(this.ws, bytes, sent);
  }

  /** Closes with 1000 (terminating after 2 s without an answer); resolves once closed. */
  close(reason: string): Promise<void> {
    const ws = this.ws;
    if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => ws.terminate(), 2_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.decide(new ConnectionLostError(`the connection to ${this.options.url} was closed: ${reason}`, false), false);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, reason);
      else ws.terminate();
    });
  }

  /** Ends the socket now, for `reason` (fatal or not). */
  drop(reason: PerdureError, fatal = false): void {
    this.decide(reason, fatal);
    this.ws.terminate();
  }

  /** The first event that knows why the socket ends decides it. */
  private decide(error: PerdureError, fatal: boolean): void {
    this.end ??= { error, fatal };
  }

  private socketError(error: Error & { code?: string }): PerdureError {
    const { url, maxPayload, role } = this.options;
    // ws's receiver names what it refused with a WS_ERR_ code (websockets/ws lib/receiver.js).
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      return new ProtocolError('FRAME_TOO_LARGE', `${url} sent a frame over this ${role}'s limit of ${maxPayload} bytes (${error.message}); the connection is dropped and made again`);
    }
    if (error.code?.startsWith('WS_ERR_')) return new ProtocolError('PROTOCOL_ERROR', `${url} sent a frame WebSocket refuses: ${error.message}`);
    if (!this.opened) return new ConnectionLostError(`cannot reach ${url}: ${error.message}`, false, { cause: error });
    return new ConnectionLostError(`connection to ${url} failed: ${error.message}`, false, { cause: error });
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.end) return;
    this.liveness.heard();
    const frame = isBinary ? parseServerFrame(data) : 'a text frame is not part of the protocol';
    if (typeof frame === 'string') {
      // A server that sends junk is broken: drop the connection and make a new one.
      this.drop(new ProtocolError('PROTOCOL_ERROR', `the server sent an invalid frame: ${frame}`));
      return;
    }
    if (!this.welcomedAt) {
      if (frame.t === 'welcome') {
        this.welcomedAt = true;
        clearTimeout(this.welcomeTimer);
        this.pinger = setInterval(() => this.ping(), this.options.pingIntervalMs);
        this.pinger.unref();
        this.handlers.welcomed(frame);
      } else if (frame.t === 'error') {
        // Refused at hello: a version, namespace or role the server will not take, and would
        // not take on the next try either.
        this.decide(errorFromServer(frame.code, frame.message, { supported: frame.supported }), true);
        this.ws.close();
      } else {
        this.drop(new ProtocolError('PROTOCOL_ERROR', `the server sent "${frame.t}" before welcome`));
      }
      return;
    }
    if (frame.t === 'welcome') return; // a second welcome means nothing
    if (frame.t === 'error' && frame.id == null) {
      // A connection-level error (FRAME_TOO_LARGE, PROTOCOL_ERROR…): the server closes after it.
      this.decide(errorFromServer(frame.code, frame.message, { supported: frame.supported }), false);
      return;
    }
    this.handlers.frame(frame);
  }

  /** A server that did not answer the last ping (nor sent anything since) is gone: half-open. */
  private ping(): void {
    if (!this.liveness.ping()) {
      this.drop(new ConnectionLostError(`${this.options.url} did not answer pings for ${this.options.pingIntervalMs} ms`, false));
    }
  }

  /** The server refused the upgrade: 401 (token missing or wrong) comes before any frame. */
  private refused(response: IncomingMessage): void {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (body.length < 10_000) body += chunk;
    });
    const settle = () => {
      if (this.end) return;
      const status = response.statusCode ?? 0;
      let code = '';
      let message = `HTTP ${status} ${response.statusMessage ?? ''}`.trim();
      try {
        const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
        if (typeof parsed.code === 'string') code = parsed.code;
        if (typeof parsed.message === 'string') message = parsed.message;
      } catch {
        // not JSON: keep the status line
      }
      const url = this.options.url;
      if (status === 401) this.drop(errorFromServer(code || 'UNAUTHORIZED', message), true);
      else if (status === 403) this.drop(errorFromServer(code || 'FORBIDDEN', message), true);
      else if (status === 404) this.drop(new InvalidArgumentError(`no Perdure WebSocket endpoint at ${url} (HTTP 404): check the address`), true);
      else this.drop(new ConnectionLostError(`${url} refused the WebSocket upgrade: ${message}`, false));
    };
    response.on('end', settle);
    response.on('error', settle);
    response.on('close', settle);
  }
}
