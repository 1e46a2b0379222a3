import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.ts';
import type { ClusterStatus } from '../../src/hub/cluster-routes.ts';
import { freePort, startClusterNode, type ClusterNode } from '../helpers/cluster-node-process.ts';
import { awaitAllResults, clusterWorkload, RETRYABLE, sleep, startThroughFailures, verifyStoredExecutions, waitFor, type StartProgress, type WorkloadStart } from '../helpers/cluster-workload.ts';
import { findPostgresBinaries, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

// Issue 10's database faults, mid-run: two `perdure server` processes on a PostgreSQL server of
// the test's own (initdb in a temp dir: restarting the shared one would break every other test
// running beside this one), a worker process per node, order sagas and durable timers started
// all along, while
//   1. one node's database connections are terminated (`pg_terminate_backend`) every 150 ms for 3 s,
//   2. the database is restarted cleanly (`pg_ctl stop -m fast`, 3 s down, start),
//   3. the database is restarted as after a crash (`-m immediate`: no checkpoint, WAL recovery).
// While it is down, every kind of request is sent to both nodes: each must settle within a bound
// (never hang), either answered or refused with a retryable code. Afterwards both nodes hold
// every shard again, every acknowledged start exists and completed, and every history is seq
// 1..n and replays to its stored snapshot.

const binaries = findPostgresBinaries();
const ORDERS = 150;
const TIMERS = 30;
/** Short, so shards are lost while the database is away and taken back within seconds. */
const LEASE_MS = 1_500;
const DOWN_MS = 3_000;
/** A request that has not settled by then is hung: far above the lease, the hand-over wait and the connection timeout. */
const HANG_MS = 25_000;
const NODES = ['restart-a', 'restart-b'];
const WORKFLOWS = ['machines/index.ts', 'machines/timer.ts'];
const between = (min: number, max: number) => min + Math.random() * (max - min);

interface ProbeResult { what: string; ms: number; outcome: string; message?: string }

/** One request sent while the database is away: how long it took, and `ok` or its error code. */
async function probe(what: string, call: () => Promise<unknown>): Promise<ProbeResult> {
  const began = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('HUNG'), HANG_MS)));
  let message: string | undefined;
  const settled = call().then(() => 'ok', (error: { code?: string; message?: string }) => {
    message = error.message;
    return error.code ?? 'no code';
  });
  const outcome = await Promise.race([settled, hung]);
  clearTimeout(timer);
  return { what, ms: Date.now() - began, outcome, message };
}

async function status(node: ClusterNode): Promise<ClusterStatus | undefined> {
  try {
    const response = await fetch(`${node.url}/api/v1/cluster`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? ((await response.json()) as ClusterStatus) : undefined;
  } catch {
    return undefined;
  }
}

describe.skipIf(!binaries.available)(`a cluster whose PostgreSQL restarts mid-run${binaries.available ? '' : ` — skipped: ${binaries.reason}`}`, () => {
  it(`completes ${ORDERS} order sagas and ${TIMERS} timers across terminated connections and two database restarts; requests while it is down settle with retryable codes`, async () => {
    const began = Date.now();
    const database: PrivatePostgres = await startPrivatePostgres(binaries);
    const nodes: ClusterNode[] = [];
    const workers: WorkerProcess[] = [];
    const clients: Client[] = [];
    const schema = 'perdure_restart';
    try {
      const ports = await Promise.all(NODES.map(() => freePort()));
      nodes.push(...(await Promise.all(NODES.map((nodeId, i) => startClusterNode({
        storeUrl: `${database.url}?schema=${schema}&application_name=perdure_${nodeId}`, nodeId, port: ports[i]!, leaseMs: LEASE_MS, workflows: WORKFLOWS,
      })))));
      const allShardsServed = async () => {
        const seen = await Promise.all(nodes.map(status));
        return seen.every((s) => s && s.unowned.length === 0 && s.nodes.length === nodes.length && s.nodes.every((n) => n.shards.length > 0)) ? true : undefined;
      };
      await waitFor('both nodes share the shards', allShardsServed, 30_000);
      workers.push(...(await Promise.all(nodes.map((node, i) => startWorkerProcess({
        address: node.wsUrl, taskQueue: 'orders', identity: `worker-${i}`, delayMs: 50, maxConcurrentActivities: 50, reconnectMaxDelayMs: 250,
      })))));
      clients.push(...(await Promise.all(nodes.map((node) => Client.connect({ address: node.wsUrl, reconnect: { initialDelayMs: 50, maxDelayMs: 250, waitMs: 3_000 } })))));

      const progress: StartProgress = { acknowledged: new Set(), unexpected: [], retries: 0 };
      const starts: WorkloadStart[] = clusterWorkload({ orders: ORDERS, timers: TIMERS });
      let faultsDone = false;
      const startAll = startThroughFailures(clients, starts, progress, () => (faultsDone ? 0 : between(100, 300)));

      // Requests of every kind to both nodes while the database is away. A start that is
      // acknowledged (after the database is back) joins the workload, to be checked with it.
      const probes: Promise<ProbeResult>[] = [];
      const probeStarts: WorkloadStart[] = [];
      const sendProbes = (round: string) => {
        const known = [...progress.acknowledged][0] ?? starts[0]!.workflowId;
        nodes.forEach((node, i) => {
          const client = clients[i]!;
          const start: WorkloadStart = { workflowId: `probe-${round}-${i}`, type: 'order', input: { orderId: `probe-${round}-${i}`, amount: 1, items: ['x'] } };
          probes.push(probe(`${round} start via ${node.nodeId}`, async () => {
            await client.start('order', { workflowId: start.workflowId, input: start.input as never, idempotencyKey: start.workflowId });
            probeStarts.push(start);
          }));
          probes.push(probe(`${round} describe via ${node.nodeId}`, () => client.getHandle(known).describe()));
          probes.push(probe(`${round} query via ${node.nodeId}`, () => client.getHandle(known).query()));
          probes.push(probe(`${round} list via ${node.nodeId}`, () => client.list({ limit: 10 })));
          probes.push(probe(`${round} count via ${node.nodeId}`, () => client.count()));
          probes.push(probe(`${round} HTTP list via ${node.nodeId}`, async () => {
            const response = await fetch(`${node.url}/api/v1/namespaces/default/workflows?limit=10`);
            if (!response.ok) throw { code: ((await response.json()) as { code?: string }).code ?? `HTTP ${response.status}` };
          }));
        });
      };

      const timeline: string[] = [];
      const t = () => `${Date.now() - began} ms`;
      const recoveries: number[] = [];
      const faults = (async () => {
        await sleep(1_500);
        timeline.push(`${t()} terminating ${NODES[0]}'s connections`);
        const admin = new pg.Client({ connectionString: database.url });
        await admin.connect();
        let terminated = 0;
        for (const end = Date.now() + 3_000; Date.now() < end;) {
          terminated += (await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'perdure_${NODES[0]}'`)).rowCount ?? 0;
          await sleep(150);
        }
        await admin.end();
        timeline.push(`${t()} terminated ${terminated} connections`);
        expect(terminated).toBeGreaterThan(0);
        for (const mode of ['fast', 'immediate'] as const) {
          await sleep(2_000);
          timeline.push(`${t()} stopping the database (${mode})`);
          await database.restart({
            mode,
            downMs: DOWN_MS,
            whileDown: async () => {
              sendProbes(`${mode}-early`);
              await sleep(LEASE_MS + 500); // the leases have run out by now
              sendProbes(`${mode}-late`);
            },
          });
          const back = Date.now();
          timeline.push(`${t()} the database is back`);
          await waitFor(`every shard served again after the ${mode} restart`, allShardsServed, 60_000, 50);
          recoveries.push(Date.now() - back);
          timeline.push(`${t()} every shard served again`);
        }
        faultsDone = true;
      })();
      await Promise.all([startAll, faults]);
      const probed = await Promise.all(probes);

      const diagnostics = () => `${timeline.join('\n')}\n${nodes.map((n) => `--- ${n.nodeId}\n${n.output().slice(-3_000)}`).join('\n')}`;
      expect(probed.filter((p) => p.outcome === 'HUNG'), `requests that hung while the database was away\n${diagnostics()}`).toEqual([]);
      expect(probed.filter((p) => p.outcome !== 'ok' && !RETRYABLE.has(p.outcome)), 'requests refused with a code that is not retryable').toEqual([]);
      expect(progress.unexpected, 'starts failed with a non-retryable error').toEqual([]);
      expect(progress.acknowledged.size).toBe(starts.length);

      const everything = [...starts, ...probeStarts];
      await awaitAllResults(clients, everything, 120_000, diagnostics);
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await Promise.all(workers.splice(0).map((w) => w.kill()));
      for (const node of nodes) expect(await node.stop(), `${node.nodeId} stopped cleanly:\n${node.output()}`).toBe(0);
      await verifyStoredExecutions({ url: database.url, schema, starts: everything });

      const refused = new Map<string, number>();
      for (const p of probed) refused.set(p.outcome, (refused.get(p.outcome) ?? 0) + 1);
      const ms = probed.map((p) => p.ms).sort((a, b) => a - b);
      console.log(`postgres restart test: ${timeline.join('; ')}; ${probed.length} requests while down: ${[...refused].map(([o, n]) => `${n} ${o}`).join(', ')}, ` +
        `settled in ${ms[0]}–${ms.at(-1)} ms (median ${ms[Math.floor(ms.length / 2)]}); every shard served ${recoveries.join(' and ')} ms after the database was back; ` +
        `${progress.retries} start retries; ${everything.length} executions checked; total ${Date.now() - began} ms`);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await Promise.all(workers.map((w) => w.kill()));
      await Promise.all(nodes.map((n) => n.kill()));
      await database.destroy();
    }
  }, 300_000);
});
