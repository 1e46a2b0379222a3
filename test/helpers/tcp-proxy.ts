import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy that can be turned into a black hole (after pg-boss's `halfOpenProxy`): while black-
 * holed it forwards nothing in either direction and closes nothing, as a dead route, a pulled cable
 * or a stalled NAT does. Neither end sees an error or a close; only its own timeouts can tell.
 *
 * - bytes that arrive on either side of an open connection while black-holed are dropped;
 * - a close or error of one side is held back (the other side stays open) until `restore()`,
 *   which then ends the other side, as it would have seen the close had the route been up;
 * - a connection accepted while black-holed is held unread, and connected upstream on `restore()`.
 *
 * @example
 * const proxy = await startTcpProxy(server.port);
 * const worker = await startWorkerProcess({ address: `ws://127.0.0.1:${proxy.port}`, … });
 * proxy.blackHole();  …  proxy.restore();
 * await proxy.close();
 */
export interface TcpProxy {
  port: number;
  /** Stops forwarding, in both directions, on every connection; closes nothing. */
  blackHole(): void;
  /** Forwards again; passes on the closes held back meanwhile. */
  restore(): void;
  /** Connections accepted so far (for failure messages). */
  readonly accepted: number;
  close(): Promise<void>;
}

interface Pair {
  down: Socket;
  up?: Socket;
  /** A side closed while black-holed: the other is ended on restore(). */
  closedWhileDark: boolean;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let dark = false;
  let accepted = 0;
  const pairs = new Set<Pair>();
  const held: Pair[] = [];

  const end = (pair: Pair) => {
    pairs.delete(pair);
    pair.down.destroy();
    pair.up?.destroy();
  };
  const onSideClosed = (pair: Pair) => {
    if (dark) pair.closedWhileDark = true;
    else end(pair);
  };
  const connectUp = (pair: Pair) => {
    const up = createConnection({ port: targetPort, host: targetHost });
    pair.up = up;
    up.on('data', (chunk) => {
      if (!dark) pair.down.write(chunk);
    });
    up.on('error', () => onSideClosed(pair));
    up.on('close', () => onSideClosed(pair));
    pair.down.on('data', (chunk) => {
      if (!dark) up.write(chunk);
    });
    pair.down.resume();
  };

  const server: Server = createServer({ pauseOnConnect: true }, (down) => {
    accepted++;
    const pair: Pair = { down, closedWhileDark: false };
    pairs.add(pair);
    down.on('error', () => onSideClosed(pair));
    down.on('close', () => onSideClosed(pair));
    if (dark) held.push(pair);
    else connectUp(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    get accepted() {
      return accepted;
    },
    blackHole() {
      dark = true;
    },
    restore() {
      dark = false;
      for (const pair of [...pairs]) if (pair.closedWhileDark) end(pair);
      for (const pair of held.splice(0)) if (pairs.has(pair)) connectUp(pair);
    },
    close: () => new Promise<void>((resolve) => {
      for (const pair of [...pairs]) end(pair);
      server.close(() => resolve());
    }),
  };
}
