import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Liveness } from '../../../src/common/liveness.ts';

describe('Liveness', () => {
  let server: WebSocketServer | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function connected(): Promise<WebSocket> {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server!.on('listening', resolve));
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
    await new Promise((resolve) => ws.on('open', resolve));
    return ws;
  }

  it('reports a peer silent since the last ping, and alive again once it answers or sends', async () => {
    const ws = await connected();
    const liveness = new Liveness(ws);
    expect(liveness.ping()).toBe(true);
    expect(liveness.ping()).toBe(false); // no pong yet
    await new Promise((resolve) => ws.once('pong', resolve));
    expect(liveness.ping()).toBe(true); // the pong counted
    liveness.heard();
    expect(liveness.ping()).toBe(true); // so does anything the owner heard
    ws.terminate();
  });
});
