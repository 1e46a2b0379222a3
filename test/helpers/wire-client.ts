/**
 * A minimal peer that speaks the wire protocol directly (src/common/wire.ts), for tests that
 * drive the server over real sockets without the client SDK: start workflows and read their
 * results, or play a worker and send frames the SDKs never would.
 */
import WebSocket from 'ws';
import { decode, encode } from '../../src/common/codec.ts';
import { PROTOCOL_VERSION, type ClientOp } from '../../src/common/wire.ts';

export interface WireFrame {
  t: string;
  id?: number;
  code?: string;
  message?: string;
  [key: string]: unknown;
}

/** An `error` frame answering a request, as an Error with its `code`. */
export class WireError extends Error {
  constructor(readonly code: string, message: string, readonly frame: WireFrame) {
    super(message);
  }
}

/** The upgrade was refused with an HTTP status (401 when a token is missing or wrong). */
export class UpgradeRefused extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`upgrade refused: HTTP ${status} ${body}`);
  }
}

/**
 * One WebSocket to the server, recording every frame it receives (decoded with the safe codec)
 * and how it closed.
 *
 * @example
 * const socket = await WireSocket.open(server.wsUrl);
 * const welcome = await socket.hello({ role: 'worker' });
 */
export class WireSocket {
  /** Every frame received, in order. */
  readonly frames: WireFrame[] = [];
  /** How the server closed the connection. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Frames no next() took yet (answers to request() go straight to their caller). */
  private readonly untaken: WireFrame[] = [];
  private readonly answers = new Map<number, (frame: WireFrame) => void>();
  private readonly waiters = new Set<() => void>();
  private nextId = 1;
  private isClosed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('error', () => {}); // a write to a socket the server closed: 'close' follows
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      let frame: WireFrame;
      try {
        frame = isBinary ? (decode(data) as WireFrame) : { t: '(text)', text: data.toString() };
      } catch (error) {
        frame = { t: '(undecodable)', message: (error as Error).message };
      }
      this.frames.push(frame);
      const answer = typeof frame.id === 'number' && (frame.t === 'ok' || frame.t === 'error') ? this.answers.get(frame.id) : undefined;
      if (answer) {
        this.answers.delete(frame.id!);
        answer(frame);
        return;
      }
      this.untaken.push(frame);
      this.wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code: number, reason: Buffer) => {
      this.isClosed = true;
      resolve({ code, reason: reason.toString() });
      this.wake();
    }));
  }

  /** Opens the socket; rejects with UpgradeRefused when the server answers the upgrade with an HTTP error. */
  static open(url: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<WireSocket> {
    const headers = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          reject(new UpgradeRefused(response.statusCode ?? 0, body));
          ws.terminate();
        });
      });
      ws.once('open', () => resolve(new WireSocket(ws)));
      ws.once('error', (error) => reject(error));
    });
  }

  /** Sends hello and resolves with the answer: `welcome`, or the `error` frame. */
  async hello(options: { role?: 'worker' | 'client'; namespace?: string; v?: number } = {}): Promise<WireFrame> {
    this.send({ t: 'hello', v: options.v ?? PROTOCOL_VERSION, role: options.role ?? 'client', namespace: options.namespace ?? 'default', identity: 'wire-test' });
    return this.next((f) => f.t === 'welcome' || f.t === 'error');
  }

  /** Sends a request with a fresh id and resolves with its answer (`ok` or `error`). */
  request(frame: Record<string, unknown>): Promise<WireFrame> {
    const id = this.nextId++;
    const answered = new Promise<WireFrame>((resolve, reject) => {
      this.answers.set(id, resolve);
      void this.closed.then(() => {
        if (this.answers.delete(id)) reject(new Error(`connection closed before the answer to ${String(frame.t)} #${id}`));
      });
    });
    this.send({ ...frame, id });
    return answered;
  }

  send(frame: unknown): void {
    this.sendRaw(encode(frame));
  }

  sendRaw(data: Buffer | string, binary = typeof data !== 'string'): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary }, () => {});
  }

  /**
   * Resolves with the first frame not yet taken that matches (already received or to come), and
   * takes it. Rejects when the connection closes first, or after `timeoutMs`.
   */
  next(match: (frame: WireFrame) => boolean = () => true, timeoutMs = 15_000): Promise<WireFrame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.untaken.findIndex(match);
        if (index >= 0) {
          const frame = this.untaken.splice(index, 1)[0]!;
          done();
          resolve(frame);
        } else if (this.isClosed) {
          done();
          reject(new Error(`connection closed before the awaited frame; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no awaited frame within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private wake(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

/**
 * A client over the wire protocol: `call` frames, answers as values or WireErrors.
 *
 * @example
 * const client = await WireClient.connect(server.wsUrl);
 * const { workflowId } = await client.start('order', { input: { orderId: 'o-1', amount: 5, items: [] } });
 * const result = await client.result(workflowId);
 */
export class WireClient {
  private constructor(readonly socket: WireSocket) {}

  static async connect(url: string, options: { token?: string; namespace?: string } = {}): Promise<WireClient> {
    const socket = await WireSocket.open(url, { token: options.token });
    const answer = await socket.hello({ role: 'client', namespace: options.namespace });
    if (answer.t !== 'welcome') {
      socket.close();
      throw new WireError(String(answer.code), String(answer.message), answer);
    }
    return new WireClient(socket);
  }

  async call<T = unknown>(op: ClientOp, args: Record<string, unknown> = {}): Promise<T> {
    const answer = await this.socket.request({ t: 'call', op, args });
    if (answer.t === 'error') throw new WireError(String(answer.code), String(answer.message), answer);
    return answer.value as T;
  }

  start(type: string, args: { workflowId?: string; input?: unknown; idempotencyKey?: string } = {}): Promise<{ workflowId: string; runId: string }> {
    return this.call('start', { type, ...args });
  }

  /** Waits until the execution closes (up to `timeoutMs`). */
  result<T = unknown>(workflowId: string, timeoutMs = 20_000): Promise<{ status: string; output?: T; failure?: unknown }> {
    return this.call('result', { workflowId, timeoutMs });
  }

  async history(workflowId: string): Promise<Array<{ kind: string; [key: string]: unknown }>> {
    return (await this.call<{ events: Array<{ kind: string }> }>('history', { workflowId })).events;
  }

  describe(workflowId: string): Promise<{ status: string; state: { value: unknown }; [key: string]: unknown }> {
    return this.call('describe', { workflowId });
  }

  close(): void {
    this.socket.close();
  }
}

/** Resolves `/healthz`'s status, or 0 when the server does not answer. */
export async function healthz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/healthz`)).status;
  } catch {
    return 0;
  }
}
