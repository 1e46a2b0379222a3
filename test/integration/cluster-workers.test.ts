import { afterEach, describe, expect, it } from 'vitest';
import { threeStepWorkflow } from '../../machines/three-step.ts';
import { Client } from '../../src/client/index.ts';
import type { ActivityTask } from '../../src/common/worker-protocol.ts';
import type { ClusterStatus } from '../../src/hub/cluster-routes.ts';
import { createServer, type PerdureServer } from '../../src/server/create-server.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { Worker } from '../../src/worker/index.ts';
import { WsWorkerConnection } from '../../src/worker/ws-connection.ts';
import { ClusterWorkerConnection } from '../../src/worker/cluster-connection.ts';
import { eventually, sleep } from '../helpers/engine.ts';
import { freshSchema, PG_TEST_URL, probePostgres, type TestSchema } from '../helpers/postgres.ts';

// One worker given the address of one node of three: it connects to all three (the welcome lists
// them), so every node pushes the tasks of its own shards to it, within one shared limit; a node
// that stops leaves the others serving. And a report that reaches a node not holding the task's
// shard is forwarded to the node that holds it.

const postgres = await probePostgres();
const LEASE_MS = 1_500;
const SLOTS = 4;

describe.skipIf(!postgres.available)(`workers of a cluster${postgres.available ? '' : ` — skipped: ${postgres.reason}`}`, () => {
  let schema: TestSchema | undefined;
  const servers: PerdureServer[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await schema?.drop();
    schema = undefined;
  });

  async function node(name: string): Promise<PerdureServer> {
    const store = new PostgresStore({ url: PG_TEST_URL, schema: schema!.schema, nodeId: name, leaseMs: LEASE_MS, poolSize: 4 });
    const server = await createServer({ workflows: [threeStepWorkflow], store, port: 0, logger: false });
    servers.push(server);
    return server;
  }

  /** Three nodes, each holding some shards, every shard held. */
  async function cluster(): Promise<PerdureServer[]> {
    schema = await freshSchema();
    const nodes = [await node('node-a'), await node('node-b'), await node('node-c')];
    await eventually(async () => {
      const s = (await (await fetch(`${nodes[2]!.url}/api/v1/cluster`)).json()) as ClusterStatus;
      return s.nodes.length === 3 && s.unowned.length === 0 && s.nodes.every((n) => n.shards.length >= 15) ? s : undefined;
    }, 20_000);
    return nodes;
  }

  /** The worker's open sessions on a node, for the queue 'bench'. */
  const sessionsOn = (server: PerdureServer) => server.engine.workers().filter((w) => w.taskQueue === 'bench' && w.closedAt === undefined);
  const ownerOf = async (server: PerdureServer, workflowId: string) => {
    const shards = server.engine.store.shards();
    return (await shards.ownerOf(shards.shardOf('default', workflowId)))?.nodeId;
  };

  it('connects one worker to every node, shares its limit between them, and goes on when a node stops', async () => {
    const [a, b, c] = await cluster();
    const runs = new Map<string, number>();
    let running = 0;
    let most = 0;
    const step = async (input: { n: number }, ctx: { info: { workflowId: string; activityId: string } }) => {
      const key = `${ctx.info.workflowId}/${ctx.info.activityId}`;
      runs.set(key, (runs.get(key) ?? 0) + 1);
      running++;
      most = Math.max(most, running);
      await sleep(20);
      running--;
      return input;
    };
    const worker = Worker.create({
      address: a!.wsUrl, taskQueue: 'bench', maxConcurrentActivities: SLOTS, quiet: true, identity: 'cluster-worker',
      activities: { step1: step, step2: step, step3: step },
    });
    const running$ = worker.run();
    closers.push(async () => {
      await worker.shutdown();
      await running$;
    });

    // Given A only, it is on all three, and the three credits add up to its limit.
    await eventually(() => ([a, b, c].every((s) => sessionsOn(s!).length === 1) ? true : undefined), 15_000);
    await eventually(() => ([a, b, c].reduce((sum, s) => sum + sessionsOn(s!)[0]!.slots, 0) === SLOTS ? true : undefined), 15_000);
    expect([a, b, c].map((s) => sessionsOn(s!)[0]!.identity)).toEqual(['cluster-worker', 'cluster-worker', 'cluster-worker']);

    const client = await Client.connect({ address: a!.wsUrl });
    closers.push(() => client.close());
    const ids = Array.from({ length: 30 }, (_, i) => `cluster-worker-${i}`);
    const owners = new Set(await Promise.all(ids.map((id) => ownerOf(a!, id))));
    expect(owners.size, 'the workflows live in the shards of several nodes').toBeGreaterThan(1);
    for (const [i, workflowId] of ids.entries()) await client.start('threeStep', { workflowId, input: { n: i } });
    for (const [i, workflowId] of ids.entries()) {
      expect(await client.getHandle(workflowId).result({ timeoutMs: 60_000 })).toEqual({ n: i });
    }
    expect(runs.size).toBe(ids.length * 3);
    expect([...runs.values()].every((n) => n === 1), 'each activity ran once').toBe(true);
    expect(most, 'never more at once than maxConcurrentActivities').toBeLessThanOrEqual(SLOTS);
    // Shards of every node were served: each node pushed (and was told of) some of the tasks.
    for (const s of [a, b, c]) expect(sessionsOn(s!)[0]!.tasksCompleted, `tasks completed through ${s!.url}`).toBeGreaterThan(0);

    // B stops (handing its shards over): its credit goes to the other two, and work goes on.
    await servers.splice(servers.indexOf(b!), 1)[0]!.close();
    await eventually(() => ([a, c].reduce((sum, s) => sum + (sessionsOn(s!)[0]?.slots ?? 0), 0) === SLOTS ? true : undefined), 15_000);
    const more = Array.from({ length: 12 }, (_, i) => `cluster-worker-after-${i}`);
    for (const [i, workflowId] of more.entries()) await client.start('threeStep', { workflowId, input: { n: i } });
    for (const [i, workflowId] of more.entries()) {
      expect(await client.getHandle(workflowId).result({ timeoutMs: 60_000 })).toEqual({ n: i });
    }
    expect(most).toBeLessThanOrEqual(SLOTS);
  }, 180_000);

  it('forwards a report on a task of another node\'s shard to that node, and refuses a stale token as that node would', async () => {
    const [a, b] = await cluster();
    // A workflow in one of B's shards.
    let workflowId = '';
    for (let i = 0; !workflowId; i++) if ((await ownerOf(a!, `forwarded-${i}`)) === 'node-b') workflowId = `forwarded-${i}`;
    const client = await Client.connect({ address: a!.wsUrl });
    closers.push(() => client.close());

    // A worker on B alone (not following the cluster) takes the first task, and goes away without reporting it.
    const tasks: ActivityTask[] = [];
    const onB = await WsWorkerConnection.connect({ address: b!.wsUrl, identity: 'only-b' });
    onB.openSession({ namespace: 'default', taskQueue: 'bench', activityTypes: ['step1'], slots: 1 }, { onTask: (t) => tasks.push(t), onCancel: () => {} });
    await client.start('threeStep', { workflowId, input: { n: 7 } });
    const task = await eventually(() => tasks[0], 15_000);
    await onB.close();

    // Its report reaches A, which does not hold the shard: A forwards it to B, which applies it.
    const onA = await WsWorkerConnection.connect({ address: a!.wsUrl, identity: 'only-a' });
    closers.push(() => onA.close());
    const onASession = onA.openSession({ namespace: 'default', taskQueue: 'bench', activityTypes: ['step9'], slots: 1 }, { onTask: () => {}, onCancel: () => {} });
    await expect(onASession.heartbeat(task.taskToken, { progress: 1 })).resolves.toEqual({ cancelRequested: false });
    await onASession.complete(task.taskToken, { n: 8 });
    await eventually(async () => ((await client.getHandle(workflowId).describe()).pendingActivities[0]?.activityType === 'step2' ? true : undefined), 15_000);
    // The same token again: B moved on, and its refusal comes back through A.
    await expect(onASession.complete(task.taskToken, { n: 9 })).rejects.toMatchObject({ code: 'TASK_TOKEN_STALE' });
    await client.getHandle(workflowId).terminate('done testing').catch(() => {});
  }, 120_000);

  it('lists the live nodes only to a worker that follows the cluster, and follows nodes that join and leave', async () => {
    schema = await freshSchema();
    const [a, b] = [await node('node-a'), await node('node-b')];
    const address = (s: PerdureServer) => `127.0.0.1:${s.port}`;

    // The welcome names the node reached and lists every live node, to a worker that asks only.
    const heard: { node?: string; nodes: readonly string[] }[] = [];
    const asking = await WsWorkerConnection.connect({ address: a.wsUrl, followCluster: true, onNodes: (n) => heard.push(n) });
    closers.push(() => asking.close());
    await eventually(() => (heard.at(-1)?.nodes.length === 2 ? true : undefined), 15_000);
    expect(heard[0]!.node).toBe(address(a));
    expect(heard.at(-1)!.nodes).toEqual([address(a), address(b)].sort());
    const silent: unknown[] = [];
    const notAsking = await WsWorkerConnection.connect({ address: a.wsUrl, onNodes: (n) => silent.push(n) });
    closers.push(() => notAsking.close());

    // A worker given A connects to B too, then to C once it joins, and lets B go once it left.
    const cluster = await ClusterWorkerConnection.connect({ address: a.wsUrl, identity: 'follower' });
    const worker = Worker.create({ connection: cluster, taskQueue: 'bench', maxConcurrentActivities: SLOTS, activities: { step1: async (x: unknown) => x } });
    const running$ = worker.run();
    closers.push(async () => {
      await worker.shutdown();
      await running$;
      await cluster.close();
    });
    const connectedTo = () => cluster.nodes().filter((n) => n.connected).map((n) => n.address).sort().join(' ');
    await eventually(() => (connectedTo() === [address(a), address(b)].sort().join(' ') ? true : undefined), 15_000);
    const c = await node('node-c');
    await eventually(() => (connectedTo() === [address(a), address(b), address(c)].sort().join(' ') ? true : undefined), 20_000);
    await eventually(() => (sessionsOn(c).length === 1 ? true : undefined), 15_000);
    await servers.splice(servers.indexOf(b), 1)[0]!.close();
    await eventually(() => (cluster.nodes().map((n) => n.address).sort().join(' ') === [address(a), address(c)].sort().join(' ') ? true : undefined), 20_000);
    expect(heard.at(-1)!.nodes).toEqual([address(a), address(c)].sort());
    expect(silent, 'a worker that did not ask hears nothing of the cluster').toEqual([]);
  }, 120_000);

  it('completes a task whose node stops while the worker runs it: reported to the shard\'s new owner, run once', async () => {
    const [a, b] = await cluster();
    let workflowId = '';
    for (let i = 0; !workflowId; i++) if ((await ownerOf(a!, `stopping-${i}`)) === 'node-b') workflowId = `stopping-${i}`;
    const runs = new Map<string, number>();
    let started!: () => void;
    const began = new Promise<void>((resolve) => (started = resolve));
    const step = async (input: { n: number }, ctx: { info: { activityId: string } }) => {
      runs.set(ctx.info.activityId, (runs.get(ctx.info.activityId) ?? 0) + 1);
      if (ctx.info.activityId === 's1') {
        started();
        await sleep(3_000);
      }
      return input;
    };
    const worker = Worker.create({ address: a!.wsUrl, taskQueue: 'bench', maxConcurrentActivities: SLOTS, quiet: true, activities: { step1: step, step2: step, step3: step } });
    const running$ = worker.run();
    closers.push(async () => {
      await worker.shutdown();
      await running$;
    });
    await eventually(() => (servers.every((s) => sessionsOn(s).length === 1) ? true : undefined), 15_000);
    const client = await Client.connect({ address: a!.wsUrl });
    closers.push(() => client.close());
    await client.start('threeStep', { workflowId, input: { n: 3 } });
    await began; // pushed by B, running here
    await servers.splice(servers.indexOf(b!), 1)[0]!.close();
    expect(await client.getHandle(workflowId).result({ timeoutMs: 60_000 })).toEqual({ n: 3 });
    expect(Object.fromEntries(runs)).toEqual({ s1: 1, s2: 1, s3: 1 });
  }, 120_000);

  it('runs no attempt again when a joining node takes shards whose activities are running: the old owner leaves them to the worker', async () => {
    schema = await freshSchema();
    const [a, b] = [await node('node-a'), await node('node-b')];
    await eventually(async () => {
      const s = (await (await fetch(`${a.url}/api/v1/cluster`)).json()) as ClusterStatus;
      return s.nodes.length === 2 && s.unowned.length === 0 && s.nodes.every((n) => n.shards.length === 32) ? s : undefined;
    }, 20_000);
    const runs = new Map<string, number>();
    let running = 0;
    const step = async (input: { n: number }, ctx: { info: { activityId: string; workflowId: string }; signal: AbortSignal }) => {
      const key = `${ctx.info.workflowId}/${ctx.info.activityId}`;
      runs.set(key, (runs.get(key) ?? 0) + 1);
      if (ctx.info.activityId === 's1') {
        running++;
        // Long enough for the third node to join and take its share meanwhile; an attempt the
        // server cancels stops, as a well-behaved activity does.
        await sleep(4_000);
        ctx.signal.throwIfAborted();
      }
      return input;
    };
    const worker = Worker.create({ address: a.wsUrl, taskQueue: 'bench', maxConcurrentActivities: 100, quiet: true, activities: { step1: step, step2: step, step3: step } });
    const run$ = worker.run();
    closers.push(async () => {
      await worker.shutdown();
      await run$;
    });
    await eventually(() => (servers.every((s) => sessionsOn(s).length === 1) ? true : undefined), 15_000);
    const client = await Client.connect({ address: a.wsUrl });
    closers.push(() => client.close());
    const ids = Array.from({ length: 24 }, (_, i) => `joining-${i}`);
    for (const workflowId of ids) await client.start('threeStep', { workflowId, input: { n: 1 } });
    await eventually(() => (running === ids.length ? true : undefined), 20_000);
    // A third node joins: A and B hand it a third of their shards while every s1 still runs.
    const c = await node('node-c');
    const moved = await eventually(async () => {
      const owners = await Promise.all(ids.map((id) => ownerOf(a, id)));
      return owners.some((o) => o === 'node-c') ? owners.filter((o) => o === 'node-c').length : undefined;
    }, 20_000);
    expect(moved).toBeGreaterThan(0);
    expect(c.url).toBeTruthy();
    for (const workflowId of ids) expect(await client.getHandle(workflowId).result({ timeoutMs: 60_000 })).toEqual({ n: 1 });
    // Each activity of each workflow ran once: none was cancelled by the hand-over and run again.
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(runs.size).toBe(ids.length * 3);
  }, 120_000);
});
