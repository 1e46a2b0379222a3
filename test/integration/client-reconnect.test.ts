import { mkdtemp } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { approvalWorkflow } from '../../machines/approval.ts';
import { Client, ConnectionLostError } from '../../src/client/index.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

// The client SDK across server outages, against a real server child process that is stopped
// (SIGTERM) and started again on the same port and data directory.

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the client across server outages', () => {
  let server: ServerProcess | undefined;
  const clients: Client[] = [];
  const connect = async (options: Omit<Parameters<typeof Client.connect>[0], 'address'> & { address?: string } = {}) => {
    const client = await Client.connect({ address: server!.wsUrl, ...options });
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.cleanup();
    server = undefined;
  });

  it('result() waits through a server restart longer than reconnect.waitMs, and resolves once the run closes', async () => {
    server = await startServerProcess();
    // waitMs far shorter than any restart: a result() bound by it would fail with CONNECTION_LOST.
    const client = await connect({ reconnect: { waitMs: 50, maxDelayMs: 200 } });
    const handle = await client.start<typeof approvalWorkflow>('approval', { workflowId: 'outage-1', input: { request: 'laptop', timeoutMs: 3_600_000 } });
    const settled = handle.result().then((output) => ({ output }), (error: unknown) => ({ error }));

    expect(await server.stop()).toBe(0);
    // Calls other than result() keep their waitMs: the outage outlasts it.
    await expect(handle.query()).rejects.toBeInstanceOf(ConnectionLostError);
    server = await server.restart();

    await expect.poll(() => client.connected, { timeout: 20_000 }).toBe(true);
    await handle.signal({ type: 'APPROVE', approver: 'ann' });
    expect(await settled).toEqual({ output: expect.objectContaining({ decision: 'approved', approver: 'ann' }) });
  });

  it('result() waits through a server killed (SIGKILL) and restarted', async () => {
    server = await startServerProcess();
    const client = await connect({ reconnect: { waitMs: 50, maxDelayMs: 200 } });
    const handle = await client.start<typeof approvalWorkflow>('approval', { workflowId: 'outage-2', input: { request: 'desk', timeoutMs: 3_600_000 } });
    const settled = handle.result().then((output) => ({ output }), (error: unknown) => ({ error }));
    await server.kill();
    server = await server.restart();
    await expect.poll(() => client.connected, { timeout: 20_000 }).toBe(true);
    await handle.signal({ type: 'REJECT', approver: 'bo' });
    expect(await settled).toEqual({ output: expect.objectContaining({ decision: 'rejected' }) });
  });

  it('result({ timeoutMs }) ends with CONNECTION_LOST when the server is still down at its timeout', async () => {
    server = await startServerProcess();
    const client = await connect({ reconnect: { maxDelayMs: 200 } });
    const handle = await client.start('approval', { workflowId: 'outage-3', input: { request: 'chair', timeoutMs: 3_600_000 } });
    await server.stop();
    const error = await handle.result({ timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect((error as Error).message).toMatch(/CONNECTION_LOST: not connected to ws:\/\/127\.0\.0\.1:\d+\/ws after waiting/);
  });

  it('Client.connect with waitForServerMs waits for a server that is still starting', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'perdure-server-'));
    const address = `127.0.0.1:${port}`;
    // Nothing listens yet: without waitForServerMs the connect fails at once.
    await expect(Client.connect({ address })).rejects.toMatchObject({ code: 'CONNECTION_LOST' });

    const connecting = Client.connect({ address, waitForServerMs: 60_000, reconnect: { maxDelayMs: 200 } });
    connecting.catch(() => {}); // awaited below; the server may take a while to start
    server = await startServerProcess({}, { dataDir, port });
    const client = await connecting;
    clients.push(client);
    expect((await client.workflowTypes()).map((t) => t.type)).toContain('approval');
  });

  it('Client.connect with waitForServerMs says how long it tried when no server came', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const error = await Client.connect({ address, waitForServerMs: 300, reconnect: { maxDelayMs: 50 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONNECTION_LOST', message: expect.stringContaining('tried for 300 ms (waitForServerMs)') });
    await expect(Client.connect({ address, waitForServerMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('waitForServerMs') });
  });
});
