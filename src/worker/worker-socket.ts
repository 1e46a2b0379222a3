import { sendCorked } from '../common/corked-send.ts';
import { Liveness } from '../common/liveness.ts';
import WebSocket from 'ws';
import { encode } from '../common/codec.ts';
import { InvalidArgumentError, PerdureError } from '../common/errors.ts';
import { PROTOCOL_VERSION } from '../common/wire.ts';
import { errorFromServer, parseServerFrame, type IncomingFrame } from './server-frames.ts';

const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface WorkerSocketOptions {
  url: string;
  token?: string;
  namespace: string;
  identity: string;
  pingIntervalMs: number;
  /** Largest frame accepted from the server. */
  maxPayload: number;
}

/** Why a socket ended. `fatal`: the server refused this worker, and would refuse it again. */
export interface SocketEnd {
  error: Error;
  fatal: boolean;
}

export interface WorkerSocketHandlers {
  welcomed(sessionId: string): void;
  frame(frame: Exclude<IncomingFrame, { t: 'welcome' }>): void;
  /** Called once, whatever ended the socket (never before it was opened). */
  ended(end: SocketEnd): void;
}

/**
 * One WebSocket to the server, from the upgrade to its close: says hello, waits for welcome,
 * validates every frame, pings a quiet server. It never reconnects — WsWorkerConnection makes a
 * new one — and it decides how it ended: a refused upgrade (401, 403, 404) or an error frame
 * answering hello is fatal; anything else (refused connection, lost socket, junk from the
 * server, silence) is not.
 */
export class WorkerSocket {
  private readonly ws: WebSocket;
  private welcomedAt = false;
  private end?: SocketEnd;
  private readonly liveness: Liveness;
  private pinger?: ReturnType<typeof setInterval>;
  private readonly welcomeTimer: ReturnType<typeof setTimeout>;

  constructor(private readonly options: WorkerSocketOptions, private readonly handlers: WorkerSocketHandlers) {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const ws = new WebSocket(options.url, {
      headers, perMessageDeflate: false, followRedirects: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, maxPayload: options.maxPayload,
    });
    this.ws = ws;
    this.welcomeTimer = setTimeout(() => this.drop(new PerdureError('CONNECTION_LOST', `${options.url} did not answer hello within ${HANDSHAKE_TIMEOUT_MS} ms`)),
      HANDSHAKE_TIMEOUT_MS + 1_000);
    ws.on('unexpected-response', (_request, response) => this.refused(response));
    ws.on('open', () => this.send({ t: 'hello', v: PROTOCOL_VERSION, role: 'worker', namespace: options.namespace, identity: options.identity }));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    this.liveness = new Liveness(ws);
    // ws emits 'error' for refused connections, resets and oversized frames; 'close' follows.
    ws.on('error', (error: Error) => this.decide(new PerdureError('CONNECTION_LOST', `connection to ${options.url} failed: ${error.message}`, { cause: error }), false));
    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(this.welcomeTimer);
      clearInterval(this.pinger);
      this.decide(new PerdureError('CONNECTION_LOST', `connection to ${options.url} closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`), false);
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

  sendBytes(bytes: Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    // A failed write closes the socket; 'close' takes it from there.
    sendCorked(this.ws, bytes);
  }

  /** Closes with 1000 (terminating after 2 s without an answer); resolves once closed. */
  close(): Promise<void> {
    const ws = this.ws;
    if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => ws.terminate(), 2_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.decide(new PerdureError('CONNECTION_LOST', `the connection to ${this.options.url} was closed by the worker`), false);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'worker closing');
      else ws.terminate();
    });
  }

  /** Ends the socket now, for `reason` (fatal or not). */
  drop(reason: Error, fatal = false): void {
    this.decide(reason, fatal);
    this.ws.terminate();
  }

  /** The first event that knows why the socket ends decides it. */
  private decide(error: Error, fatal: boolean): void {
    this.end ??= { error, fatal };
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.end) return;
    this.liveness.heard();
    const frame = isBinary ? parseServerFrame(data) : 'a text frame is not part of the protocol';
    if (typeof frame === 'string') {
      // A server that sends junk is broken: drop the connection and make a new one.
      this.drop(new PerdureError('PROTOCOL_ERROR', `the server sent an invalid frame: ${frame}`));
      return;
    }
    if (!this.welcomedAt) {
      if (frame.t === 'welcome') {
        this.welcomedAt = true;
        clearTimeout(this.welcomeTimer);
        this.pinger = setInterval(() => this.ping(), this.options.pingIntervalMs);
        this.pinger.unref();
        this.handlers.welcomed(frame.sessionId);
      } else if (frame.t === 'error') {
        // Refused at hello: a version, namespace or role the server will not take, and would
        // not take on the next try either.
        this.decide(errorFromServer(frame.code, frame.message, { supported: frame.supported }), true);
        this.ws.close();
      } else {
        this.drop(new PerdureError('PROTOCOL_ERROR', `the server sent "${frame.t}" before welcome`));
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
      this.drop(new PerdureError('CONNECTION_LOST', `${this.options.url} did not answer pings for ${this.options.pingIntervalMs} ms`));
    }
  }

  /** The server refused the upgrade: 401 (token missing or wrong) comes before any frame. */
  private refused(response: import('node:http').IncomingMessage): void {
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
      else this.drop(new PerdureError('CONNECTION_LOST', `${url} refused the WebSocket upgrade: ${message}`));
    };
    response.on('end', settle);
    response.on('error', settle);
    response.on('close', settle);
  }
}
