import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LongTaskOutput } from '../fixtures/worker-machines.ts';
import { eventually } from '../helpers/engine.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { WireClient } from '../helpers/wire-client.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

type Event = { kind: string; activityId?: string; attempt?: number; failure?: { type?: string; timeoutType?: string } };

/** Each activity completed at most once in a history: a second accepted completion would be a bug. */
function completionsPerActivity(history: Event[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of history) if (e.kind === 'ActivityCompleted') counts[e.activityId!] = (counts[e.activityId!] ?? 0) + 1;
  return counts;
}

/** Waits until one of the workers prints the start of an attempt of `workflowId`; returns that worker. */
async function whoStarts(workers: WorkerProcess[], workflowId: string, attempt = 1): Promise<WorkerProcess> {
  const match = (l: { event: string; workflowId?: string; attempt?: number }) => l.event === 'start' && l.workflowId === workflowId && l.attempt === attempt;
  return Promise.race(workers.map((w) => w.waitFor(match).then(() => w)));
}

describe('worker failover (worker processes over WebSocket)', () => {
  let server: ServerProcess;
  let client: WireClient;
  const workers: WorkerProcess[] = [];
  const identities = new Map<WorkerProcess, string>();

  beforeAll(async () => {
    // A short worker-lost grace: a dead worker's attempt is retried soon after its connection drops.
    server = await startServerProcess({ workerLostGraceMs: 300 });
    client = await WireClient.connect(server.wsUrl);
  });

  afterAll(async () => {
    client?.close();
    await Promise.all(workers.map((w) => w.kill('SIGCONT').then(() => w.kill())));
    await server?.cleanup();
  });

  const spawnWorker = async (identity: string) => {
    // One slot each: a worker stuck on its task holds its only slot, so the retry goes elsewhere.
    // (With free slots, a paused worker whose connection is still open could be handed the
    // retry too, until its slots or the ping interval run out.)
    const worker = await startWorkerProcess({ address: server.wsUrl, taskQueue: 'long', identity, maxConcurrentActivities: 1 });
    workers.push(worker);
    identities.set(worker, identity);
    return worker;
  };

  it('retries the attempt of a SIGKILLed worker on another worker; exactly one completion is accepted', async () => {
    const [a, b] = await Promise.all([spawnWorker('A'), spawnWorker('B')]);
    const workflowId = unique('killed');
    await client.start('longTask', { workflowId, input: { steps: 10, stepMs: 80 } });
    const runner = await whoStarts([a!, b!], workflowId);
    const survivor = runner === a ? b! : a!;
    await runner.kill('SIGKILL');

    const result = await client.result<LongTaskOutput>(workflowId);
    expect(result.output!.outcome).toBe('done');
    expect(result.output!.result).toMatchObject({ attempt: 2, worker: identities.get(survivor) });
    await survivor.waitFor((l) => l.event === 'end' && l.workflowId === workflowId && l.outcome === 'completed');

    const history = (await client.history(workflowId)) as Event[];
    expect(completionsPerActivity(history)).toEqual({ work: 1 });
    const failed = history.filter((e) => e.kind === 'ActivityAttemptFailed');
    expect(failed).toHaveLength(1);
    // Whichever noticed first: the heartbeat timeout (1 s) or the worker-lost grace (300 ms).
    expect([failed[0]!.failure?.type, failed[0]!.failure?.timeoutType]).toSatisfy((f: unknown[]) => f.includes('WorkerLost') || f.includes('heartbeat'));
  });

  it('refuses the late report of a worker that was paused past its heartbeat timeout', async () => {
    await spawnWorker('C');
    const candidates = [...workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null)];
    expect(candidates.length).toBeGreaterThanOrEqual(2);
    const workflowId = unique('paused');
    await client.start('longTask', { workflowId, input: { steps: 6, stepMs: 80 } });
    const paused = await whoStarts(candidates, workflowId);
    await paused.kill('SIGSTOP');
    try {
      // Its connection stays open, but its heartbeats stop: after 1 s the attempt times out and
      // another worker runs attempt 2.
      const result = await client.result<LongTaskOutput>(workflowId);
      expect(result.output!.outcome).toBe('done');
      expect(result.output!.result!.attempt).toBe(2);
      expect(result.output!.result!.worker).not.toBe(identities.get(paused));
    } finally {
      await paused.kill('SIGCONT');
    }
    // Woken up, the paused worker learns its attempt is gone (a cancel, or a heartbeat answered
    // TASK_TOKEN_STALE) and stops; whatever it reports is refused.
    await paused.waitFor((l) => l.event === 'end' && l.workflowId === workflowId && l.attempt === 1);
    const history = (await client.history(workflowId)) as Event[];
    expect(completionsPerActivity(history)).toEqual({ work: 1 });
    expect(history.filter((e) => e.kind === 'ActivityAttemptFailed').map((e) => e.failure?.timeoutType)).toEqual(['heartbeat']);
    expect(history.at(-1)!.kind).toBe('WorkflowCompleted');
  });
});

describe('a worker that shuts down gracefully while an activity runs', () => {
  let server: ServerProcess;
  let client: WireClient;

  beforeAll(async () => {
    // A grace much shorter than the activity: a drain taken for a lost connection would have
    // the attempt retried elsewhere long before it ends.
    server = await startServerProcess({ workerLostGraceMs: 300 });
    client = await WireClient.connect(server.wsUrl);
  });

  afterAll(async () => {
    client?.close();
    await server?.cleanup();
  });

  it('lets the attempt finish once, on that worker, through the web UI\'s worker directory', async () => {
    const draining = await startWorkerProcess({ address: server.wsUrl, taskQueue: 'long', identity: 'draining', maxConcurrentActivities: 1 });
    const workflowId = unique('drained');
    await client.start('longTask', { workflowId, input: { steps: 15, stepMs: 200 } });
    await draining.waitFor((l) => l.event === 'start' && l.workflowId === workflowId);
    const stopped = draining.stop(); // SIGTERM: no new tasks, finish the one in flight, exit
    // A second worker, ready to take a retry if the server wrongly gave the attempt up.
    const spare = await startWorkerProcess({ address: server.wsUrl, taskQueue: 'long', identity: 'spare', maxConcurrentActivities: 1 });
    try {
      const result = await client.result<LongTaskOutput>(workflowId);
      expect(result.output!.outcome).toBe('done');
      expect(result.output!.result).toMatchObject({ attempt: 1, worker: 'draining' });
      expect(await stopped).toBe(0);
      const history = (await client.history(workflowId)) as Event[];
      expect(history.filter((e) => e.kind === 'ActivityAttemptFailed')).toEqual([]);
      expect(completionsPerActivity(history)).toEqual({ work: 1 });
      expect(spare.lines.filter((l) => l.event === 'start')).toEqual([]);
      // The workers page: the spare still open and idle, the drained worker closed, its one task counted.
      // The server learns of the drained worker's exit from its socket closing, after the process is gone: wait for it.
      const workers = await eventually(async () => {
        const { workers: all } = (await (await fetch(`${server.url}/api/v1/workers`)).json()) as { workers: Array<Record<string, unknown>> };
        const long = all.filter((w) => w.taskQueue === 'long');
        return long.length === 2 && long.some((w) => w.identity === 'draining' && w.tasksCompleted === 1 && typeof w.closedAt === 'number') ? long : undefined;
      });
      expect(workers).toMatchObject([
        { identity: 'spare', freeSlots: 1, tasksCompleted: 0 },
        { identity: 'draining', freeSlots: 0, tasksCompleted: 1, closedAt: expect.any(Number) },
      ]);
    } finally {
      await spare.kill();
    }
  });
});

describe('a server SIGKILLed while workers are connected', () => {
  let server: ServerProcess | undefined;
  let restarted: ServerProcess | undefined;
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await server?.kill();
    await (restarted ?? server)?.cleanup();
  });

  it('restarts on the same data and port; the workers reconnect by themselves and every execution finishes', async () => {
    server = await startServerProcess();
    workers.push(...(await Promise.all(['W1', 'W2'].map((identity) =>
      startWorkerProcess({ address: server!.wsUrl, taskQueue: 'orders', identity, delayMs: 25, maxConcurrentActivities: 5 })))));
    const client = await WireClient.connect(server.wsUrl);
    const orders = Array.from({ length: 24 }, (_, i) => ({
      orderId: unique(`order-${i}`), amount: i + 1, items: ['x'], failAt: i % 6 === 5 ? ('ship' as const) : undefined,
    }));
    await Promise.all(orders.map((input) => client.start('order', { workflowId: input.orderId, input })));
    // Kill the server once work is under way (some activities done, most not).
    await Promise.race(workers.map((w) => w.waitFor((l) => l.event === 'end')));
    client.close();
    await server.kill();

    restarted = await server.restart();
    expect(restarted.port).toBe(server.port);
    await Promise.all(workers.map((w) => w.waitFor((l) => l.event === 'connected' && l.reconnected === true)));

    const after = await WireClient.connect(restarted.wsUrl);
    try {
      const results = await Promise.all(orders.map((o) => after.result<{ outcome: string }>(o.orderId, 25_000)));
      expect(results.map((r) => r.status)).toEqual(orders.map(() => 'completed'));
      expect(results.map((r) => r.output!.outcome)).toEqual(orders.map((o) => (o.failAt ? 'compensated' : 'shipped')));
      for (const o of orders) {
        const counts = completionsPerActivity((await after.history(o.orderId)) as Event[]);
        expect(Object.values(counts).every((n) => n === 1)).toBe(true);
      }
      for (const w of workers) expect(w.child.exitCode).toBeNull(); // they rode it out
    } finally {
      after.close();
    }
  });
});
