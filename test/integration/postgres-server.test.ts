import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { orderWorkflow } from '../../machines/order.ts';
import { Client } from '../../src/client/index.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { replayHistory } from '../../src/testing/index.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { freshSchema, PG_TEST_URL, probePostgres } from '../helpers/postgres.ts';
import { startWorkerProcess } from '../helpers/worker-process.ts';

// `perdure server --store postgres://…` as a real child process (the command a user types), on
// its own schema of the test database; a worker process runs the order saga's activities.

const postgres = await probePostgres();

interface ServerChild {
  child: ChildProcess;
  url: string;
  wsUrl: string;
  port: number;
  exited: Promise<number | null>;
  stdout(): string;
}

/** `perdure server --store <url> --port <port>`; resolves once it logged where it listens. */
async function startServer(storeUrl: string, port = 0): Promise<ServerChild> {
  const child = spawn(process.execPath, [BIN, 'server', '--port', String(port), '--workflows', 'machines/index.ts', '--log-format', 'json'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PERDURE_STORE: storeUrl },
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await new Promise<{ url: string; ws: string }>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"ws"'));
      if (line) resolve(JSON.parse(line) as { url: string; ws: string });
    });
    void exited.then((code) => reject(new Error(`perdure server exited (${code}) before listening:\n${err}\n${out}`)));
  });
  return { child, url: listening.url, wsUrl: listening.ws, port: Number(new URL(listening.url).port), exited, stdout: () => out };
}

async function kill(server: ServerChild, signal: NodeJS.Signals): Promise<number | null> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
  return server.exited;
}

describe.skipIf(!postgres.available)(`perdure server on PostgreSQL${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  it('runs an order saga with a worker, and carries it on after the server is SIGKILLed and restarted', async () => {
    const schema = await freshSchema();
    let server = await startServer(schema.url);
    // Each activity takes a while, so the kill lands while the saga is between its steps.
    const worker = await startWorkerProcess({ address: server.wsUrl, taskQueue: 'orders', identity: 'w-pg', delayMs: 300 });
    let client = await Client.connect({ address: server.wsUrl });
    try {
      expect(server.stdout()).toContain(`schema ${schema.schema}`); // the log names the database, not a data directory
      await client.start<typeof orderWorkflow>('order', { workflowId: 'pg-order-1', input: { orderId: 'pg-1', amount: 42, items: ['book'] } });
      await worker.waitFor((l) => l.event === 'end' && l.workflowId === 'pg-order-1' && l.activityId === 'charge');

      await kill(server, 'SIGKILL');
      await client.close();
      server = await startServer(schema.url, server.port);
      client = await Client.connect({ address: server.wsUrl });
      const result = await client.getHandle<typeof orderWorkflow>('pg-order-1').result({ timeoutMs: 60_000 });
      expect(result).toEqual({ orderId: 'pg-1', outcome: 'shipped', chargeId: 'ch_pg-1', trackingId: 'trk_pg-1' });
      // A second saga on the restarted server, to the end.
      const second = await client.start<typeof orderWorkflow>('order', { workflowId: 'pg-order-2', input: { orderId: 'pg-2', amount: 7, items: ['pen'] } });
      expect(await second.result({ timeoutMs: 60_000 })).toMatchObject({ outcome: 'shipped' });
      expect(await kill(server, 'SIGTERM')).toBe(0);

      // What the server left in PostgreSQL: complete histories, 1..n, that replay to the stored snapshot.
      const store = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 2 });
      await store.open();
      try {
        for (const workflowId of ['pg-order-1', 'pg-order-2']) {
          const runId = (await store.getCurrentRunId('default', workflowId))!;
          const run = (await store.getRun(runId))!;
          expect(run.status).toBe('completed');
          const history = await store.readHistory(runId);
          expect(history.map((e) => e.seq)).toEqual(Array.from({ length: run.lastSeq }, (_, i) => i + 1));
          expect(replayHistory(orderWorkflow, history, { storedSnapshot: run.snapshot }).divergence, `${workflowId} replays to its stored snapshot`).toBeUndefined();
        }
      } finally {
        await store.close();
      }
    } finally {
      await client.close();
      await worker.kill();
      await kill(server, 'SIGKILL');
      await schema.drop();
    }
  }, 120_000);
});
