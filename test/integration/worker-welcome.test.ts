import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { threeStepActivities, threeStepWorkflow } from '../../machines/three-step.ts';
import { Client } from '../../src/client/index.ts';
import { createServer, type PerdureServer } from '../../src/server/create-server.ts';
import { Worker } from '../../src/worker/index.ts';
import { WsWorkerConnection } from '../../src/worker/ws-connection.ts';

// On one server (LevelDB) there is no cluster to follow: a worker that asks for the nodes hears
// none, and a Worker (following the cluster by default) runs on its one connection as before.

describe('a worker that follows the cluster, on one server', () => {
  let server: PerdureServer | undefined;
  let dir = '';

  afterEach(async () => {
    await server?.close();
    server = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('hears no node list, and runs its tasks on its one connection', async () => {
    dir = await mkdtemp(join(tmpdir(), 'perdure-welcome-'));
    server = await createServer({ workflows: [threeStepWorkflow], dataDir: dir, port: 0, logger: false });
    const heard: unknown[] = [];
    const asking = await WsWorkerConnection.connect({ address: server.wsUrl, followCluster: true, onNodes: (n) => heard.push(n) });
    await asking.close();
    expect(heard).toEqual([]);

    const worker = Worker.create({ address: server.wsUrl, taskQueue: 'bench', activities: threeStepActivities, maxConcurrentActivities: 3, quiet: true });
    const running = worker.run();
    const client = await Client.connect({ address: server.wsUrl });
    try {
      await client.start('threeStep', { workflowId: 'welcome-1', input: { n: 5 } });
      expect(await client.getHandle('welcome-1').result({ timeoutMs: 20_000 })).toEqual({ n: 5 });
      const sessions = server.engine.workers().filter((w) => w.taskQueue === 'bench' && w.closedAt === undefined);
      expect(sessions.map((s) => s.slots)).toEqual([3]);
    } finally {
      await client.close();
      await worker.shutdown();
      await running;
    }
  }, 60_000);
});
