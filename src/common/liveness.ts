import type { WebSocket } from 'ws';

/**
 * Ping/pong liveness of one WebSocket, the same on both ends: a peer that has sent nothing
 * (no pong, and no frame when the owner calls `heard()`) since the last ping is gone — the
 * connection is half-open — and the owner drops it.
 *
 * @example
 * const liveness = new Liveness(ws);
 * setInterval(() => liveness.ping() || ws.terminate(), 15_000);
 */
export class Liveness {
  private alive = true;

  constructor(private readonly ws: WebSocket) {
    ws.on('pong', () => this.heard());
  }

  /** Something came from the peer: it is alive. */
  heard(): void {
    this.alive = true;
  }

  /** Pings the peer; false, without pinging, when it was silent since the last ping. */
  ping(): boolean {
    if (!this.alive) return false;
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      this.ws.terminate();
    }
    return true;
  }
}
