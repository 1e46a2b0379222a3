import { describe, expect, it } from 'vitest';
import { orderWorkflow } from '../../machines/order.ts';
import { timerWorkflow } from '../../machines/timer.ts';
import { Client } from '../../src/client/index.ts';
import type { ClusterStatus } from '../../src/hub/cluster-routes.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { replayHistory } from '../../src/testing/index.ts';
import { freePort, startClusterNode, type ClusterNode } from '../helpers/cluster-node-process.ts';
import { freshSchema, PG_TEST_URL, probePostgres, type TestSchema } from '../helpers/postgres.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

// Issue 10's crash test: three `perdure server` processes on one PostgreSQL schema run 300
// order sagas and 50 durable timers, started through clients of all three nodes, while random
// nodes are SIGKILLed at random moments (and restarted after a pause) and one is stopped with
// SIGTERM (a graceful hand-over). Afterwards, as in the LevelDB crash tests: every execution
// completed, each history replays to its stored snapshot with seq 1..n, every acknowledged start
// exists, and activities re-ran only for attempts a kill could have cut off.
//
// Workers connect to one node each and get only the tasks of that node's shards, so each node
// has its own worker process, which reconnects to it when it comes back.

const postgres = await probePostgres();
const ORDERS = 300;
const TIMERS = 50;
const SIGKILLS = 10;
/** Short, so a killed node's shards are taken within seconds; renewals every 500 ms. */
const LEASE_MS = 1_500;
const NODES = ['crash-a', 'crash-b', 'crash-c'];
const WORKFLOWS = ['machines/index.ts', 'machines/timer.ts'];
/** Errors a start may meet while its node dies or its shard moves: the same start is tried again. */
const RETRYABLE = new Set(['CONNECTION_LOST', 'SERVER_UNREACHABLE', 'STORE_FAILED', 'STORE_CLOSED', 'ENGINE_STOPPED', 'SHARD_OWNERSHIP_LOST',
  'SHARD_NOT_HELD', 'COMMIT_CONFLICT', 'TIMEOUT', 'TOO_MANY_REQUESTS']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

interface Start { workflowId: string; type: 'order' | 'timer'; input: unknown }

function workload(): Start[] {
  const starts: Start[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const workflowId = `order-${i}`;
    starts.push({ workflowId, type: 'order', input: { orderId: workflowId, amount: i, items: ['x'], failAt: i % 10 === 3 ? 'ship' : undefined } });
  }
  return starts.sort((a, b) => (a.workflowId.length * 7 + Number(a.workflowId.split('-')[1]) * 13) % 350 - (b.workflowId.length * 7 + Number(b.workflowId.split('-')[1]) * 13) % 350);
}

async function status(node: ClusterNode): Promise<ClusterStatus | undefined> {
  try {
    const response = await fetch(`${node.url}/api/v1/cluster`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? ((await response.json()) as ClusterStatus) : undefined;
  } catch {
    return undefined; // that node is down or restarting: ask another
  }
}

/** The cluster's shard → {owner, epoch}, as a live node reads it from the database. */
async function ownership(nodes: ClusterNode[], except?: ClusterNode): Promise<Map<number, { owner: string; epoch: number }> | undefined> {
  for (const node of nodes) {
    if (node === except || !node.running()) continue;
    const s = await status(node);
    if (!s) continue;
    return new Map(s.nodes.flatMap((n) => n.shards.map((x) => [x.shard, { owner: n.nodeId, epoch: x.epoch }] as const)));
  }
  return undefined;
}

describe.skipIf(!postgres.available)(`a cluster of three server processes under SIGKILL${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  it(`completes ${ORDERS} order sagas and ${TIMERS} timers across ${SIGKILLS} SIGKILLs and a SIGTERM of random nodes: every start kept, every history whole and replayable, re-runs only of attempts cut off`, async () => {
    const schema: TestSchema = await freshSchema();
    const nodes: ClusterNode[] = [];
    const workers: WorkerProcess[] = [];
    const clients: Client[] = [];
    const began = Date.now();
    try {
      const ports = [await freePort(), await freePort(), await freePort()];
      // The first node creates the schema; the other two join it.
      nodes.push(await startClusterNode({ storeUrl: schema.url, nodeId: NODES[0]!, port: ports[0]!, leaseMs: LEASE_MS, workflows: WORKFLOWS }));
      nodes.push(...(await Promise.all([1, 2].map((i) => startClusterNode({ storeUrl: schema.url, nodeId: NODES[i]!, port: ports[i]!, leaseMs: LEASE_MS, workflows: WORKFLOWS })))));
      await waitFor('the three nodes share the shards', async () => {
        const s = await status(nodes[0]!);
        return s && s.nodes.length === 3 && s.unowned.length === 0 && s.nodes.every((n) => n.shards.length > 0) ? true : undefined;
      }, 30_000);
      workers.push(...(await Promise.all(nodes.map((node, i) => startWorkerProcess({
        address: node.wsUrl, taskQueue: 'orders', identity: `worker-${i}`, delayMs: 50, maxConcurrentActivities: 50, reconnectMaxDelayMs: 250,
      })))));
      const timeline: string[] = [];
      const t = () => Date.now() - began;
      workers.forEach((w, i) => {
        let buf = '';
        w.child.stdout!.on('data', (c: Buffer) => {
          buf += c.toString();
          const parts = buf.split('\n');
          buf = parts.pop()!;
          for (const l of parts) if (l.startsWith('{')) timeline.push(`${t()} w${i} ${l}`);
        });
      });
      clients.push(...(await Promise.all(nodes.map((node) => Client.connect({ address: node.wsUrl, reconnect: { initialDelayMs: 50, maxDelayMs: 250, waitMs: 3_000 } })))));

      // Starts, three lanes (one per node's client), paced to run through the kills.
      const acknowledged = new Set<string>();
      const unexpected: string[] = [];
      let startRetries = 0;
      const starts = workload();
      let chaosDone = false;
      const startAll = Promise.all([0, 1, 2].map(async (lane) => {
        for (let k = lane; k < starts.length; k += 3) {
          const start = starts[k]!;
          for (let attempt = 0; ; attempt++) {
            const client = clients[(lane + attempt) % 3]!;
            try {
              await client.start(start.type, { workflowId: start.workflowId, input: start.input as never, idempotencyKey: start.workflowId });
              acknowledged.add(start.workflowId);
              break;
            } catch (error) {
              const code = (error as { code?: string }).code ?? 'none';
              if (!RETRYABLE.has(code) || attempt > 50) {
                unexpected.push(`${start.workflowId}: ${code}: ${(error as Error).message}`);
                break;
              }
              startRetries++;
              await sleep(100);
            }
          }
          if (!chaosDone) await sleep(between(150, 450));
        }
      }));

      // The chaos: one node at a time, SIGKILLed at a random moment, restarted after a pause
      // shorter or longer than the lease (it takes its shards back itself, or the others have
      // taken them first); the sixth round is a SIGTERM instead.
      const failovers: { signal: string; node: string; ms: number; by: string }[] = [];
      let kills = 0;
      let restarts = 0;
      const chaos = (async () => {
        for (let round = 0; round <= SIGKILLS; round++) {
          await sleep(between(300, 1_500));
          const victim = nodes[Math.floor(Math.random() * nodes.length)]!;
          const signal = round === 5 ? 'SIGTERM' : 'SIGKILL';
          const before = await ownership(nodes, victim);
          const held = before ? [...before].filter(([, o]) => o.owner === victim.nodeId) : [];
          const killedAt = Date.now();
          timeline.push(`${t()} ${signal} ${victim.nodeId}`);
          if (signal === 'SIGKILL') {
            await victim.kill();
            kills++;
          } else {
            const code = await victim.stop();
            expect(code, `${victim.nodeId} stopped cleanly on SIGTERM:\n${victim.output()}`).toBe(0);
          }
          // Failover: until every shard it held is held again, at a higher epoch, by a live node.
          const served = waitFor(`${victim.nodeId}'s shards served again after ${signal}`, async () => {
            const now = await ownership(nodes);
            if (!now) return undefined;
            const owners = new Set<string>();
            for (const [shard, was] of held) {
              const is = now.get(shard);
              if (!is || is.epoch <= was.epoch) return undefined;
              owners.add(is.owner === victim.nodeId ? 'itself restarted' : 'others');
            }
            return [...owners].join('+') || 'nothing held';
          }, 60_000, 50).then((by) => failovers.push({ signal, node: victim.nodeId, ms: Date.now() - killedAt, by }));
          await sleep(signal === 'SIGTERM' ? 2_000 : between(200, 2_500));
          timeline.push(`${t()} restarting ${victim.nodeId}`);
          await victim.start();
          timeline.push(`${t()} restarted ${victim.nodeId}`);
          if (process.env.CRASH_DEBUG) {
            for (const line of victim.output().split('\n')) {
              if (!line.startsWith('{')) { if (line.trim()) timeline.push(`   ${victim.nodeId} ${line.slice(0, 300)}`); continue; }
              const { time, msg, component } = JSON.parse(line) as { time: number; msg: string; component?: string };
              timeline.push(`   ${victim.nodeId} ${time - began} [${component ?? ''}] ${msg.slice(0, 200)}`);
            }
          }
          restarts++;
          await served;
        }
        chaosDone = true;
      })();
      await Promise.all([startAll, chaos]);
      expect(unexpected, 'starts failed with a non-retryable error').toEqual([]);
      expect(acknowledged.size).toBe(starts.length);
      const chaosEnded = Date.now();

      // Every execution completes (through any node: the result call is forwarded to the owner).
      await Promise.all(starts.map((start, k) => clients[k % 3]!.getHandle(start.workflowId).result({ timeoutMs: 90_000 }).catch((error: Error) => {
        throw new Error(`${start.workflowId} did not complete: ${error.message}\n${nodes.map((n) => `--- ${n.nodeId}\n${n.output().slice(-3_000)}`).join('\n')}`);
      })));
      const settledMs = Date.now() - chaosEnded;

      await Promise.all(clients.splice(0).map((c) => c.close()));
      const runsPerActivity = new Map<string, number>();
      for (const worker of workers) {
        for (const line of worker.lines) {
          if (line.event !== 'start') continue;
          const key = `${line.workflowId} ${line.activityId}`;
          runsPerActivity.set(key, (runsPerActivity.get(key) ?? 0) + 1);
        }
      }
      await Promise.all(workers.splice(0).map((w) => w.kill()));
      for (const node of nodes) expect(await node.stop(), `${node.nodeId} stopped cleanly:\n${node.output()}`).toBe(0);

      // What the cluster left in PostgreSQL.
      const store = new PostgresStore({ url: PG_TEST_URL, schema: schema.schema, poolSize: 4, nodeId: 'crash-verifier', leaseMs: LEASE_MS });
      await store.open();
      try {
        for (const start of starts) {
          const runId = await store.getCurrentRunId('default', start.workflowId);
          expect(runId, `${start.workflowId} (acknowledged) exists`).toBeDefined();
          const run = (await store.getRun(runId!))!;
          expect(run.status, `${start.workflowId} completed`).toBe('completed');
          if (start.type === 'order') {
            const i = Number(start.workflowId.split('-')[1]);
            expect((run.output as { outcome: string }).outcome, start.workflowId).toBe(i % 10 === 3 ? 'compensated' : 'shipped');
          }
          const history = await store.readHistory(runId!);
          expect(history.map((e) => e.seq), `${start.workflowId}: history seq is 1..n`).toEqual(history.map((_, k) => k + 1));
          expect(run.lastSeq).toBe(history.length);
          const machine = start.type === 'order' ? orderWorkflow : timerWorkflow;
          expect(replayHistory(machine, history, { storedSnapshot: run.snapshot }).divergence, `${start.workflowId} replays to its stored snapshot`).toBeUndefined();
        }
      } finally {
        await store.close();
      }

      // An activity runs more than once only when a kill cut an attempt off (or its report):
      // never more often than once plus the number of kills.
      if (process.env.CRASH_DEBUG) {
        for (const [key, n] of runsPerActivity) {
          if (n < 2) continue;
          const [wf, act] = key.split(' ');
          console.log(`--- ${key} ran ${n}`);
          for (const l of timeline) if (!l.includes('"workflowId"') ? /SIG|restart/.test(l) : l.includes(`"workflowId":"${wf}","activityId":"${act}"`)) console.log(l);
        }
        console.log(timeline.filter((l) => /SIG|restart|warn|connected|disconnected|^   /.test(l)).join('\n'));
      }
      const reruns = [...runsPerActivity.values()].reduce((sum, n) => sum + n - 1, 0);
      const worst = Math.max(...runsPerActivity.values());
      const interruptions = kills + 1; // the SIGTERM too: an attempt whose report reached a closing node is run again
      expect(worst, 'runs of one activity').toBeLessThanOrEqual(1 + interruptions);
      const ms = failovers.map((f) => f.ms).sort((a, b) => a - b);
      console.log(`cluster crash test: ${kills} SIGKILLs + 1 SIGTERM, ${restarts} restarts; failover ${ms[0]}–${ms.at(-1)} ms (median ${ms[Math.floor(ms.length / 2)]}; ` +
        `${failovers.map((f) => `${f.signal === 'SIGTERM' ? 'TERM ' : ''}${f.ms}${f.by === 'others' ? 'o' : f.by === 'itself restarted' ? 's' : 'm'}`).join(' ')}); ` +
        `${reruns} activity re-runs (at most ${worst} runs of one); ${startRetries} start retries; settled ${settledMs} ms after the last restart; total ${Date.now() - began} ms`);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await Promise.all(workers.map((w) => w.kill()));
      await Promise.all(nodes.map((n) => n.kill()));
      await schema.drop();
    }
  }, 300_000);
});

/** Polls `check` until it returns a value; throws naming `what` after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}
