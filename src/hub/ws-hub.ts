import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_PATH } from '../common/address.ts';
import { PerdureError } from '../common/errors.ts';
import type { TokenGrant } from './auth.ts';
import { CLOSE, PeerConnection, type PeerContext, type PeerOptions, type PeerRole } from './peer-connection.ts';

/** The path WebSocket peers connect to (defined beside the SDKs' address parsing, which adds it). */
export { WS_PATH };

export interface WsHubOptions {
  authenticate(header: string | undefined): TokenGrant | undefined;
  peer: Omit<PeerOptions, 'grant' | 'sessionId' | 'makeRole'>;
  makeRole(context: PeerContext): PeerRole;
  maxFrameBytes: number;
  pingIntervalMs: number;
}

/**
 * The WebSocket endpoint for workers and clients, on the HTTP server's port. Authentication
 * happens on the upgrade request, before any frame is read: a missing or wrong token gets a
 * plain HTTP 401 and the socket is closed.
 */
export class WsHub {
  private readonly wss: WebSocketServer;
  private readonly peers = new Set<PeerConnection>();
  private readonly pinger: ReturnType<typeof setInterval>;

  constructor(private readonly options: WsHubOptions) {
    // maxPayload: ws refuses a larger frame (emitting 'error', closing with 1009) before
    // buffering it, so an oversized frame costs no memory.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
    this.wss.on('error', () => {});
    this.pinger = setInterval(() => this.peers.forEach((p) => p.ping()), options.pingIntervalMs);
    this.pinger.unref();
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
  }

  get size(): number {
    return this.peers.size;
  }

  /** Closes every connection (1001 going away) and stops accepting new ones. */
  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const peer of this.peers) peer.close(CLOSE.goingAway, 'server shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (request.url ?? '').split('?')[0];
    if (path !== WS_PATH) {
      refuse(socket, 404, 'Not Found', { code: 'NOT_FOUND', message: `WebSocket peers connect to ${WS_PATH}` });
      return;
    }
    let grant: TokenGrant | undefined;
    try {
      grant = this.options.authenticate(request.headers.authorization);
    } catch (error) {
      const e = error as PerdureError;
      refuse(socket, 401, 'Unauthorized', { code: e.code, message: e.message });
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      const peer = new PeerConnection(ws, { ...this.options.peer, grant, sessionId: randomUUID(), makeRole: this.options.makeRole });
      this.peers.add(peer);
      ws.on('close', () => this.peers.delete(peer));
    });
  }
}

/** An HTTP answer to an upgrade, with a body like the HTTP API's: the code in its field, not in the message. */
function refuse(socket: Duplex, status: number, text: string, body: { code: string; message: string }): void {
  const prefix = `${body.code}: `;
  const json = JSON.stringify({ code: body.code, message: body.message.startsWith(prefix) ? body.message.slice(prefix.length) : body.message });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}
