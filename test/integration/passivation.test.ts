import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { approvalWorkflow } from '../../machines/approval.ts';
import { activity, workflow, type ActivityOptions } from '../../src/index.ts';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestEngine, replayHistory, type TestEngine } from '../../src/testing/index.ts';
import { createServer, type PerdureServer } from '../../src/server/index.ts';
import { eventually, runWorker, seqs, sleep } from '../helpers/engine.ts';

/**
 * An engine on a store that counts reads of run records. An execution in memory is served
 * without reading its run; one that was passivated must be read back from the store.
 */
interface CountingEngine {
  engine: Engine;
  runReads(): number;
  cleanup(): Promise<void>;
}

async function countingEngine(options: Omit<EngineOptions, 'store' | 'dataDir'>): Promise<CountingEngine> {
  const dataDir = await mkdtemp(join(tmpdir(), 'perdure-passivation-'));
  const level = new LevelStore({ directory: dataDir, durability: 'os' });
  let reads = 0;
  const store = new Proxy(level, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'getRun') {
        return (...args: Parameters<Store['getRun']>) => {
          reads++;
          return target.getRun(...args);
        };
      }
      return value.bind(target);
    },
  });
  const engine = await Engine.start({ ...options, store });
  return {
    engine,
    runReads: () => reads,
    async cleanup() {
      await engine.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the execution has left memory: `describe` must then read its run from the store. */
async function passivated(c: CountingEngine, workflowId: string): Promise<void> {
  await eventually(async () => {
    const before = c.runReads();
    await c.engine.describe({ workflowId });
    return c.runReads() > before ? true : undefined;
  }, 5_000);
}

describe('passivation: idle executions leave memory and come back on their next event', () => {
  let c: CountingEngine;
  afterEach(() => c.cleanup());

  it('loads a passivated execution from the store when a signal arrives, and finishes it correctly', async () => {
    c = await countingEngine({ workflows: [approvalWorkflow], idleEvictMs: 50, evictEveryMs: 10 });
    const { workflowId, runId } = await c.engine.start('approval', { workflowId: 'a-1', input: { request: 'laptop', timeoutMs: 60_000 } });
    await passivated(c, workflowId);

    const before = c.runReads();
    await c.engine.signal({ workflowId }, { type: 'APPROVE', approver: 'ana' });
    expect(c.runReads()).toBeGreaterThan(before);

    const result = await c.engine.result({ workflowId }, { timeoutMs: 5_000 });
    const history = await c.engine.history({ workflowId });
    const signal = history.find((e) => e.kind === 'SignalReceived')!;
    expect(result).toMatchObject({ status: 'completed', output: { decision: 'approved', approver: 'ana', decidedAt: signal.at, reminders: 0 } });
    expect(seqs(history)).toEqual(history.map((_, i) => i + 1));
    const run = await c.engine.store.getRun(runId);
    expect(replayHistory(approvalWorkflow, history, { storedSnapshot: run!.snapshot }).ok).toBe(true);
  });

  it('loads a passivated execution when its durable timer fires', async () => {
    c = await countingEngine({ workflows: [approvalWorkflow], idleEvictMs: 50, evictEveryMs: 10 });
    const { workflowId } = await c.engine.start('approval', { workflowId: 'a-2', input: { request: 'desk', timeoutMs: 1_000 } });
    await passivated(c, workflowId);
    expect(await c.engine.result({ workflowId }, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed', output: { decision: 'expired', reminders: 1 } });
  });

  it('passivates an execution whose result() wait timed out', async () => {
    c = await countingEngine({ workflows: [approvalWorkflow], idleEvictMs: 50, evictEveryMs: 10 });
    const { workflowId } = await c.engine.start('approval', { workflowId: 'a-5', input: { request: 'pen', timeoutMs: 60_000 } });
    await expect(c.engine.result({ workflowId }, { timeoutMs: 20 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await passivated(c, workflowId);
  });

  it('keeps a recently active execution in memory: a signal needs no store read', async () => {
    c = await countingEngine({ workflows: [approvalWorkflow], idleEvictMs: 60_000, evictEveryMs: 10 });
    const { workflowId } = await c.engine.start('approval', { workflowId: 'a-3', input: { request: 'chair', timeoutMs: 60_000 } });
    await sleep(100); // several sweeps pass; none may evict it
    const before = c.runReads();
    await c.engine.signal({ workflowId }, { type: 'REJECT', approver: 'bo' });
    expect(c.runReads()).toBe(before);
    expect(await c.engine.result({ workflowId })).toMatchObject({ output: { decision: 'rejected' } });
  });
});

describe('idleEvictMs as a server option', () => {
  let dataDir: string | undefined;
  let server: PerdureServer | undefined;
  afterEach(async () => {
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('passivates an idle execution soon after a short idleEvictMs: the sweep runs at least that often', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'perdure-passivation-'));
    let reads = 0;
    const level = new LevelStore({ directory: dataDir, durability: 'os' });
    const store = new Proxy(level, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        if (property === 'getRun') return (...args: Parameters<Store['getRun']>) => (reads++, target.getRun(...args));
        return value.bind(target);
      },
    });
    server = await createServer({ workflows: [approvalWorkflow], store, port: 0, logger: false, idleEvictMs: 50 });
    const { workflowId } = await server.engine.start('approval', { workflowId: 'a-4', input: { request: 'lamp', timeoutMs: 60_000 } });
    // Well under the 5 s sweep of the default: only a sweep that follows idleEvictMs gets here.
    await eventually(async () => {
      const before = reads;
      await server!.engine.describe({ workflowId });
      return reads > before ? true : undefined;
    }, 4_000); // still under the default's 5 s sweep, with room for a loaded machine
  });
});

/** One activity with the given options; the machine reports how it ended. */
function single(options: ActivityOptions) {
  const work = activity<{ job: string }, string>('work', { taskQueue: 'q', ...options });
  return workflow(setup({ actors: { work } }).createMachine({
    id: 'single', initial: 'working', context: { error: null as unknown, output: null as unknown },
    states: {
      working: {
        invoke: {
          id: 'w', src: 'work', input: { job: 'j' },
          onDone: { target: 'done', actions: assign({ output: ({ event }) => event.output }) },
          onError: { target: 'done', actions: assign({ error: ({ event }) => JSON.parse(JSON.stringify(event.error)) }) },
        },
      },
      done: { type: 'final' },
    },
    output: ({ context }) => context,
  }));
}

describe('scheduleToClose: the deadline of an activity across all its attempts', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('fails the activity with a scheduleToClose TimeoutFailure when the deadline passes during a retry, aborting that attempt', async () => {
    const wf = single({ scheduleToCloseTimeout: 300, retry: { initialInterval: 20, backoffCoefficient: 1 } });
    t = await createTestEngine({ workflows: [wf] });
    const aborted: number[] = [];
    runWorker(t.engine, 'q', {
      work: (_input, ctx) => new Promise((_resolve, reject) => {
        // Two quick failures are retried; the third attempt hangs until the deadline aborts it.
        if (ctx.info.attempt <= 2) return reject(new Error(`busy (attempt ${ctx.info.attempt})`));
        ctx.signal.addEventListener('abort', () => {
          aborted.push(ctx.info.attempt);
          reject(new Error('aborted'));
        });
      }),
    });
    const { workflowId } = await t.engine.start('single');
    const result = await t.engine.result({ workflowId }, { timeoutMs: 5_000 });
    expect(result.output).toMatchObject({
      output: null,
      error: { code: 'ACTIVITY_FAILURE', activityType: 'work', retryState: 'timeout', cause: { code: 'TIMEOUT_FAILURE', timeoutType: 'scheduleToClose' } },
    });
    const history = await t.engine.history({ workflowId });
    expect(history.filter((e) => e.kind === 'ActivityAttemptFailed').map((e) => e.kind === 'ActivityAttemptFailed' && e.attempt)).toEqual([1, 2]);
    expect(history.find((e) => e.kind === 'ActivityFailed')).toMatchObject({ attempt: 3 });
    await eventually(() => (aborted.length ? true : undefined));
    expect(aborted).toEqual([3]);
  });

  it('stops retrying with retryState timeout when the next retry would start after the deadline', async () => {
    const wf = single({ scheduleToCloseTimeout: 200, retry: { initialInterval: 1_000 } });
    t = await createTestEngine({ workflows: [wf] });
    runWorker(t.engine, 'q', { work: async () => { throw new Error('down'); } });
    const { workflowId } = await t.engine.start('single');
    const result = await t.engine.result({ workflowId }, { timeoutMs: 5_000 });
    expect(result.output).toMatchObject({ error: { code: 'ACTIVITY_FAILURE', retryState: 'timeout', cause: { message: 'down' } } });
    expect((await t.engine.history({ workflowId })).some((e) => e.kind === 'ActivityAttemptFailed')).toBe(false);
  });
});
