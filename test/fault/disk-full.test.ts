import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

// A durable write that fails (here: the process's file size limit, EFBIG, which LevelDB meets
// as it meets ENOSPC on a full disk) stops the store for good: fail-stop, no write is taken again
// until a restart. The server must say so, in the error and in /healthz, so that an orchestrator
// restarts it (issue 15, bug 10).

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers.reverse()) await server.cleanup();
});

const API = (server: ServerProcess) => `${server.url}/api/v1/namespaces/default/workflows`;

async function start(server: ServerProcess, workflowId: string): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const response = await fetch(API(server), {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'approval', workflowId, input: { request: 'x'.repeat(100_000), timeoutMs: 3_600_000 } }),
  });
  return { status: response.status, body: (await response.json()) as { code?: string; message?: string } };
}

describe('a write that fails for lack of space', () => {
  it('makes /healthz answer 503 with STORE_FAILED, says a restart is needed, and a restart serves what was acknowledged', async () => {
    // 2048 blocks: 1 or 2 MiB per file, well below LevelDB's 4 MiB log rotation.
    const server = await startServerProcess({}, undefined, { fileSizeBlocks: 2048 });
    servers.push(server);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const acknowledged: string[] = [];
    let refused: { status: number; body: { code?: string; message?: string } } | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const answer = await start(server, `fill-${i}`);
      if (answer.status === 201) acknowledged.push(`fill-${i}`);
      else refused = answer;
    }
    expect(refused).toMatchObject({ status: 503, body: { code: 'STORE_FAILED' } });
    expect(refused!.body.message).toMatch(/until the server restarts/);

    // Still refused: the store does not take writes again by itself.
    expect(await start(server, 'after-failure')).toMatchObject({ status: 503, body: { code: 'STORE_FAILED' } });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unhealthy', code: 'STORE_FAILED', message: expect.stringMatching(/restart/) });

    // What an orchestrator does: restart (here with room to write again).
    await server.stop();
    const restarted = await server.restart({});
    servers.push(restarted);
    expect((await fetch(`${restarted.url}/healthz`)).status).toBe(200);
    for (const workflowId of acknowledged) expect((await fetch(`${API(restarted)}/${workflowId}`)).status, workflowId).toBe(200);
    expect((await start(restarted, 'after-restart')).status).toBe(201);
  });
});
