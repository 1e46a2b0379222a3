/**
 * The PostgreSQL store's commit path, without the engine: N runs commit at once, each one after
 * another like the engine's execution actors do (first commit, then appends, each waiting for
 * the previous one to be durable). Reports commits/s and the latency of one commit (p50, p99),
 * and how many commits a transaction carried (group commit). `synchronous_commit` stays on.
 *
 *   npx tsx bench/postgres-store-bench.ts                       # 1, 10, 100 and 400 runs at once
 *   npx tsx bench/postgres-store-bench.ts --runs 200 --commits 50 --url postgres://postgres@127.0.0.1/test
 *
 * Each case runs on a schema of its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import type { RunRecord } from '../src/common/run-model.ts';
import { fixtureEvents, fixtureRun } from '../src/testing/store-fixtures.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.PERDURE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    runs: { type: 'string' },
    commits: { type: 'string', default: '20' },
    'pool-size': { type: 'string', default: '10' },
  },
});
const url = values.url!;
const commitsPerRun = Number(values.commits);
const cases = values.runs ? [Number(values.runs)] : [1, 10, 100, 400];

async function bench(runs: number): Promise<void> {
  const schema = `perdure_bench_${randomBytes(4).toString('hex')}`;
  const batches: number[] = [];
  const store = new PostgresStore({ url, schema, poolSize: Number(values['pool-size']), onBatch: (b) => batches.push(b.commits) });
  await store.open();
  const latencies: number[] = [];
  try {
    const began = performance.now();
    await Promise.all(Array.from({ length: runs }, async (_, r) => {
      // A record about the size of an order saga's: a snapshot with some context, one pending activity.
      let run: RunRecord = fixtureRun(`bench-${r}-${randomBytes(4).toString('hex')}`, {
        workflowId: `order-${r}`, snapshot: { value: 'charging', context: { orderId: `o-${r}`, items: ['a', 'b', 'c'], note: 'x'.repeat(400) } },
      });
      for (let c = 0; c < commitsPerRun; c++) {
        const previousLastSeq = run.lastSeq;
        const next: RunRecord = { ...run, lastSeq: previousLastSeq + 2 };
        const t0 = performance.now();
        await store.commit({
          run: next, previousLastSeq, previousStatus: c === 0 ? undefined : run.status, events: fixtureEvents(previousLastSeq + 1, 2, next),
          timers: { put: [{ runId: next.runId, id: `t-${c}`, dueAt: Date.now() + 60_000, kind: 'timer' }] },
          tasks: { put: [{ namespace: 'default', taskQueue: 'orders', runId: next.runId, activityId: `a-${c}`, attempt: 1 }] },
        });
        latencies.push(performance.now() - t0);
        run = next;
      }
    }));
    const seconds = (performance.now() - began) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
    const total = runs * commitsPerRun;
    console.log(
      `${String(runs).padStart(4)} runs at once: ${String(Math.round(total / seconds)).padStart(6)} commits/s  ` +
        `p50 ${at(0.5)} ms  p99 ${at(0.99)} ms  (${total} commits in ${batches.length} transactions, ` +
        `up to ${Math.max(...batches)} a transaction)`,
    );
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

const server = new pg.Client({ connectionString: url });
await server.connect();
const { rows } = await server.query<{ version: string; sync: string }>("SELECT version() AS version, current_setting('synchronous_commit') AS sync");
await server.end();
console.log(`PostgresStore commit bench: ${commitsPerRun} commits a run (2 events, a timer, a task each), synchronous_commit=${rows[0]!.sync}`);
console.log(`  ${rows[0]!.version.split(',')[0]}`);
for (const runs of cases) await bench(runs);
