import { describe, expect, it } from 'vitest';
import { eventually, sleep } from '../helpers/engine.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const KILLS = 4;
const SCHEDULE = '/api/v1/namespaces/default/schedules/crash-tick';

async function json(server: ServerProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(`${server.url}${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('schedules under SIGKILL', () => {
  it(`starts each nominal time's workflow exactly once across ${KILLS} SIGKILLs of the server`, async () => {
    let server = await startServerProcess();
    try {
      const created = await json(server, 'POST', '/api/v1/namespaces/default/schedules', {
        scheduleId: 'crash-tick', spec: { interval: { every: '1s' } },
        action: { workflowType: 'approval', input: { request: 'tick', timeoutMs: 100 } }, policies: { overlap: 'allowAll' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      for (let kill = 0; kill < KILLS; kill++) {
        const current = server;
        const before = (await json(current, 'GET', SCHEDULE)).body.state.counts.taken as number;
        await eventually(async () => ((await json(current, 'GET', SCHEDULE)).body.state.counts.taken > before ? true : undefined), 20_000);
        await sleep(Math.random() * 1000); // anywhere in the next second: before, during or after an action
        await current.kill();
        server = await current.restart();
      }
      const paused = await json(server, 'POST', `${SCHEDULE}/pause`);
      const { counts, recentActions } = paused.body.state as { counts: Record<string, number>; recentActions: { workflowId: string; runId: string }[] };
      const runs = (await json(server, 'GET', '/api/v1/namespaces/default/workflows?workflowIdPrefix=crash-tick-&limit=1000')).body.executions as { workflowId: string; runId: string }[];
      const times = runs.map((r) => Date.parse(r.workflowId.slice('crash-tick-'.length))).sort((a, b) => a - b);
      // Nothing doubled: one run per workflow id. Nothing lost: every second from the first to the last.
      expect(new Set(runs.map((r) => r.workflowId)).size).toBe(runs.length);
      expect(times.every((t, i) => i === 0 || t - times[i - 1]! === 1000)).toBe(true);
      expect(counts).toMatchObject({ taken: runs.length, skipped: 0, missed: 0, failed: 0 });
      const byId = new Map(runs.map((r) => [r.workflowId, r.runId]));
      for (const action of recentActions) expect(byId.get(action.workflowId)).toBe(action.runId);
    } finally {
      await server.cleanup();
    }
  }, 120_000); // five server processes started one after another: slow on a busy machine
});
