import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../helpers/server-process.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { checkHistory, workflowApi } from '../helpers/workflow-http.ts';
import { startWorkerProcess } from '../helpers/worker-process.ts';

// A worker behind a route that goes dark (issue 11): a TCP proxy between it and the server stops
// forwarding in both directions and closes nothing (test/helpers/tcp-proxy.ts), so neither side
// sees an error. The server must find out by itself: a peer that answers no ping for two of its
// ping intervals (500 ms here) is dropped, its attempts wait out the worker-lost grace (500 ms)
// and are retried on another worker. When the route comes back, the silenced worker reconnects
// and reports the attempt it finished in the dark: that report is refused as stale.

const PING_MS = 500;
const GRACE_MS = 500;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('a worker whose connection becomes a black hole', () => {
  it('has its attempt re-dispatched to another worker, and its late completion refused as stale', async () => {
    const server = await startServerProcess({ pingIntervalMs: PING_MS, workerLostGraceMs: GRACE_MS });
    cleanups.push(() => server.cleanup());
    const proxy = await startTcpProxy(server.port);
    cleanups.push(() => proxy.close());
    // One slot, and each order step takes 4 s on the silenced worker: its attempt is still running
    // when the route goes dark, and it finishes in the dark.
    const silenced = await startWorkerProcess({
      address: `ws://127.0.0.1:${proxy.port}`, taskQueue: 'orders', identity: 'silenced', maxConcurrentActivities: 1, delayMs: 4_000,
    });
    cleanups.push(() => silenced.kill());

    const api = workflowApi(server.url);
    expect((await api.start('order', 'dark-1', { orderId: 'dark-1', amount: 10, items: ['a'] })).status).toBe(201);
    const first = await silenced.waitFor((l) => l.event === 'start' && l.workflowId === 'dark-1');
    expect(first.attempt).toBe(1);
    proxy.blackHole();
    // The server drops the silent peer by itself (the proxy keeps both sockets open).
    const noticedAfter = await until(async () => /^perdure_workers_connected 0$/m.test(await (await fetch(`${server.url}/metrics`)).text()));

    // The other worker connects directly, after the black hole: the retry can only go to it.
    const other = await startWorkerProcess({ address: server.wsUrl, taskQueue: 'orders', identity: 'other' });
    cleanups.push(() => other.kill());
    const retried = await other.waitFor((l) => l.event === 'start' && l.workflowId === 'dark-1' && l.activityId === first.activityId, 60_000);
    expect(retried.attempt).toBe(2);
    const result = await api.result('dark-1');
    expect(result).toMatchObject({ status: 'completed', output: { outcome: 'shipped' } });

    // The silenced worker finished attempt 1 in the dark; the route comes back and it reports it.
    await silenced.waitFor((l) => l.event === 'end' && l.activityId === first.activityId && l.attempt === 1, 60_000);
    proxy.restore();
    const refused = await silenced.waitFor((l) => l.event === 'warn' && l.log === 'reportStale', 60_000);
    expect(refused).toMatchObject({ workflowId: 'dark-1', attempt: 1 });

    const events = await api.history('dark-1');
    const completed = checkHistory('dark-1', events);
    expect(completed.get(first.activityId!), `${first.activityId} completed once`).toBe(1);
    expect([...completed.values()].every((n) => n === 1), 'every activity completed once').toBe(true);
    const done = events.find((e) => e.kind === 'ActivityCompleted' && e.activityId === first.activityId)!;
    expect(done.attempt, 'the completion accepted is the retry\'s').toBe(2);
    console.log(`black hole (ping ${PING_MS} ms, grace ${GRACE_MS} ms): the server dropped the silent worker after ~${noticedAfter} ms, ` +
      `attempt 1 retried on the other worker, late report refused (${refused.message}); the proxy accepted ${proxy.accepted} connections`);
  }, 120_000);
});

/** Polls `check` every 100 ms until it holds (at most 30 s); resolves with the time it took. */
async function until(check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > 30_000) throw new Error('the server did not drop the black-holed worker in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - start;
}
