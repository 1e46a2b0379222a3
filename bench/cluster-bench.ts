/**
 * The cluster bench (issue 10): the same 3-step workflow end to end, side by side in one run,
 *
 *   1. one node on LevelDB (the embedded default),
 *   2. one node on PostgreSQL,
 *   3. three nodes on one PostgreSQL database,
 *
 * each with one `perdure worker` per node and one client per node, starts spread over the
 * clients in turn (so on three nodes two starts in three are forwarded to their shard's owner).
 * For three nodes, also the failover time: a node is SIGKILLed, and a workflow of one of its
 * shards is started through another node at once; the time until its result is the time the
 * cluster takes to serve that shard again (the lease running out, the take, the worker's task).
 *
 * The database is `PERDURE_BENCH_PG_URL` (default: the local test database); each configuration
 * gets a schema of its own, dropped afterwards. Without a reachable database the PostgreSQL rows
 * are left out with a line that says why.
 *
 *   npm run bench:cluster
 *   npm run bench:cluster -- --workflows 5000 --lease-ms 3000
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Client } from '../src/client/index.ts';
import type { ClusterStatus } from '../src/hub/cluster-routes.ts';
import { shardOf } from '../src/store/shard-hash.ts';
import { BenchProcesses, cpuBusy, percentile, stop, type ServerProcess } from './lib/processes.ts';
import { inPool } from './lib/workflow-pool.ts';

const TARGETS = { onePostgresPerSecond: 1500 };
const PG_URL = process.env.PERDURE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const { values } = parseArgs({
  options: {
    // 6,000 after a warm-up of 1,000 per configuration: the steady state, not V8 optimising.
    workflows: { type: 'string', default: '6000' },
    'in-flight': { type: 'string', default: '100' },
    sequential: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '1000' },
    /** The PostgreSQL nodes' lease: the failover time is about this long. */
    'lease-ms': { type: 'string', default: '10000' },
  },
});
const workflows = Number(values.workflows);
const inFlight = Number(values['in-flight']);
const sequential = Number(values.sequential);
const warmup = Number(values.warmup);
const leaseMs = Number(values['lease-ms']);

interface Configuration {
  name: string;
  nodes: number;
  postgres: boolean;
}

interface Figures {
  perSecond: number;
  p50AtLoad: number;
  p50: number;
  p99: number;
  failoverMs?: number;
}

const CONFIGURATIONS: Configuration[] = [
  { name: '1 node, LevelDB', nodes: 1, postgres: false },
  { name: '1 node, PostgreSQL', nodes: 1, postgres: true },
  { name: '3 nodes, PostgreSQL', nodes: 3, postgres: true },
];

const busyBefore = await cpuBusy(1000);
const postgresMissing = await probe();
const rows: Record<string, string>[] = [];
for (const configuration of CONFIGURATIONS) {
  if (configuration.postgres && postgresMissing) continue;
  const figures = await run(configuration);
  rows.push({
    configuration: configuration.name,
    'workflows/s': String(Math.round(figures.perSecond)),
    [`p50 at ${inFlight} in flight`]: `${figures.p50AtLoad.toFixed(1)} ms`,
    'p50 one at a time': `${figures.p50.toFixed(2)} ms`,
    p99: `${figures.p99.toFixed(2)} ms`,
    'failover after SIGKILL': figures.failoverMs === undefined ? '' : `${(figures.failoverMs / 1000).toFixed(2)} s`,
  });
}
console.log(`\nPerdure cluster bench: ${workflows} 3-step workflows at ${inFlight} in flight, then ${sequential} one at a time; a worker and a client per node.`);
console.log(`PostgreSQL nodes: lease ${leaseMs} ms, synchronous_commit on; LevelDB: durability fsync. Target: one node on PostgreSQL ≥ ${TARGETS.onePostgresPerSecond}/s, three not below one.`);
console.log(`CPU busy with other work in the second before: ${Math.round(busyBefore * 100)}% of ${availableParallelism()} cores${busyBefore > 0.1 ? ' (the figures below are pessimistic)' : ''}.`);
if (postgresMissing) console.log(`PostgreSQL rows left out: ${postgresMissing}`);
console.table(rows);

async function run(configuration: Configuration): Promise<Figures> {
  const processes = new BenchProcesses();
  const dataDir = await mkdtemp(join(tmpdir(), 'perdure-cluster-bench-'));
  const schema = `perdure_bench_${randomBytes(4).toString('hex')}`;
  const store = configuration.postgres ? ['--store', `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}&lease_ms=${leaseMs}`] : [];
  const clients: Client[] = [];
  try {
    const servers: ServerProcess[] = [];
    for (let i = 0; i < configuration.nodes; i++) {
      servers.push(await processes.startServer({
        dataDir: join(dataDir, `node-${i}`), args: [...store, '--durability', 'fsync', '--workflows', 'machines/three-step.ts'],
      }));
    }
    const status = await settled(servers);
    for (const server of servers) {
      processes.spawnNode([], ['worker', '--activities', 'machines/three-step.ts', '--task-queue', 'bench', '--address', server.url, '--concurrency', '1000']);
      clients.push(await Client.connect({ address: server.url, identity: 'cluster-bench' }));
    }
    let turn = 0;
    const one = async (id: string, n: number): Promise<number> => {
      const client = clients[turn++ % clients.length]!;
      const t0 = performance.now();
      await (await client.start('threeStep', { workflowId: id, input: { n } })).result();
      return performance.now() - t0;
    };
    const pool = (count: number, width: number, prefix: string) => inPool(count, width, prefix, one);
    // Warm-up: the workers register, V8 optimises the hot paths.
    await pool(warmup, Math.min(inFlight, 50), 'warmup');
    const began = performance.now();
    const atLoad = await pool(workflows, inFlight, 'wf');
    const perSecond = workflows / ((performance.now() - began) / 1000);
    const latencies: number[] = [];
    for (let i = 0; i < sequential; i++) latencies.push(await one(`seq-${i}`, i));
    const figures: Figures = { perSecond, p50AtLoad: percentile(atLoad, 50), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    if (configuration.nodes > 1) figures.failoverMs = await failover(servers, status, clients);
    for (const server of servers) await stop(server.child);
    return figures;
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    processes.killAll();
    await rm(dataDir, { recursive: true, force: true });
    if (configuration.postgres) await dropSchema(schema);
  }
}

/**
 * SIGKILLs the last node, then starts, through the first, a workflow of a shard the killed node
 * held: ms from the kill until its result.
 */
async function failover(servers: ServerProcess[], status: ClusterStatus, clients: Client[]): Promise<number> {
  const victim = servers[servers.length - 1]!;
  const victimAddress = new URL(victim.url).host;
  const shards = new Set(status.nodes.find((n) => n.address === victimAddress)!.shards.map((s) => s.shard));
  let workflowId = '';
  for (let i = 0; !workflowId; i++) if (shards.has(shardOf('default', `failover-${i}`, status.shardCount))) workflowId = `failover-${i}`;
  const killedAt = performance.now();
  victim.child.kill('SIGKILL');
  // A call during the take may be refused as retryable (SHARD_NOT_HELD after the forwarder's
  // own wait): try again, as a client would. The idempotency key makes the start's retry safe.
  for (;;) {
    try {
      await clients[0]!.start('threeStep', { workflowId, input: { n: 0 }, idempotencyKey: workflowId });
      await clients[0]!.getHandle(workflowId).result();
      return performance.now() - killedAt;
    } catch (error) {
      if (performance.now() - killedAt > 120_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Waits until every shard has an owner and each node holds its fair share. */
async function settled(servers: ServerProcess[]): Promise<ClusterStatus> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    const status = (await (await fetch(`${servers[0]!.url}/api/v1/cluster`)).json()) as ClusterStatus;
    // Each node aims at ⌈S / n⌉, so the last one may hold fewer: S - (n - 1)⌈S / n⌉.
    const least = status.shardCount - (servers.length - 1) * Math.ceil(status.shardCount / servers.length);
    if (status.unowned.length === 0 && status.nodes.length === servers.length && status.nodes.every((n) => n.shards.length >= least)) return status;
    if (performance.now() > deadline) throw new Error(`the cluster did not settle: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL is unreachable at ${PG_URL} (${(error as Error).message}); set PERDURE_BENCH_PG_URL`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
