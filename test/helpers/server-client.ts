import { afterAll, beforeAll } from 'vitest';
import { Client } from '../../src/client/index.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

/** A server process with the example machines and a client connected to it, for one describe block. */
export interface ServerWithClient {
  readonly server: ServerProcess;
  readonly client: Client;
  /** SIGKILLs the server, starts it again on the same data and port, and connects a new client. */
  killAndRestart(): Promise<void>;
}

/**
 * Starts the server and the client before the describe block's tests, and stops them after.
 *
 * @example
 * const ctx = serverWithClient();
 * it('…', async () => { await ctx.client.start('approval', { … }); });
 */
export function serverWithClient(options: Record<string, unknown> = {}): ServerWithClient {
  let server: ServerProcess | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    server = await startServerProcess(options);
    client = await Client.connect({ address: server.wsUrl });
  });
  afterAll(async () => {
    await client?.close();
    await server?.cleanup();
  });
  return {
    get server() {
      return server!;
    },
    get client() {
      return client!;
    },
    async killAndRestart() {
      await server!.kill();
      server = await server!.restart();
      await client!.close();
      client = await Client.connect({ address: server.wsUrl });
    },
  };
}
