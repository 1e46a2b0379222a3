import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { orderWorkflow } from '../../machines/order.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import { replayHistory } from '../../src/testing/index.ts';
import { startEngineChild, type EngineChild } from '../helpers/engine-child.ts';

const CHILD = fileURLToPath(new URL('./fixtures/order-engine-child.ts', import.meta.url));
const EXECUTIONS = 300;
const KILLS = 12;

const startChild = (dataDir: string, logFile: string, generation: number): EngineChild =>
  startEngineChild(CHILD, [dataDir, logFile, String(EXECUTIONS), String(generation)]);

describe('crash safety', () => {
  it(`finishes ${EXECUTIONS} order sagas across ${KILLS} SIGKILLs with every history intact and replayable`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'perdure-crash-'));
    const dataDir = join(dir, 'data');
    const logFile = join(dir, 'events.log');
    try {
      for (let generation = 0; generation < KILLS; generation++) {
        const child = startChild(dataDir, logFile, generation);
        await child.waitFor('READY');
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400));
        if (child.child.exitCode !== null) throw new Error(`child exited by itself:\n${await child.exited}`);
        await child.stop('SIGKILL');
      }
      // The last run goes to the end, then stops cleanly.
      const last = startChild(dataDir, logFile, KILLS);
      await last.waitFor('ALL_STARTED');
      const store = await waitUntilAllClosed(dataDir, logFile, last);
      try {
        await verify(store, await readFile(logFile, 'utf8'));
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

/** Polls by asking the child to stop, reading the store, and restarting it while work remains. */
async function waitUntilAllClosed(dataDir: string, logFile: string, first: EngineChild): Promise<LevelStore> {
  let child = first;
  for (let round = 0; round < 30; round++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const output = await child.stop('SIGTERM');
    if (child.child.exitCode !== 0) throw new Error(`child did not stop cleanly (${child.child.exitCode ?? child.child.signalCode}):\n${output}`);
    const store = new LevelStore({ directory: dataDir });
    await store.open();
    const open = (await store.listRuns({ namespace: 'default', status: 'running', limit: 1000 })).runs.length;
    const total = (await store.listRuns({ namespace: 'default', limit: 1000 })).runs.length;
    if (open === 0 && total === EXECUTIONS) return store;
    await store.close();
    child = startChild(dataDir, logFile, 100 + round);
    await child.waitFor('READY');
  }
  throw new Error('executions did not all close');
}

async function verify(store: LevelStore, log: string): Promise<void> {
  const lines = log.trim().split('\n').map((l) => l.split(' '));
  const acknowledged = new Set(lines.filter((l) => l[0] === 'STARTED').map((l) => l[1]!));
  for (let i = 0; i < EXECUTIONS; i++) {
    const workflowId = `order-${i}`;
    const runId = await store.getCurrentRunId('default', workflowId);
    expect(runId, `${workflowId} exists`).toBeDefined();
    const run = (await store.getRun(runId!))!;
    expect(run.status, `${workflowId} completed`).toBe('completed');
    expect((run.output as { outcome: string }).outcome).toBe(i % 10 === 3 ? 'compensated' : 'shipped');
    const history = await store.readHistory(runId!);
    expect(history.map((e) => e.seq), `${workflowId} history has no gap or repeat`).toEqual(history.map((_, k) => k + 1));
    expect(run.lastSeq).toBe(history.length);
    const replay = replayHistory(orderWorkflow, history, { storedSnapshot: run.snapshot });
    expect(replay.divergence, `${workflowId} replays to its stored snapshot`).toBeUndefined();
    acknowledged.delete(workflowId);
  }
  expect([...acknowledged], 'every acknowledged start exists').toEqual([]);

  // An attempt may run more than once only if an earlier run of it was cut off by a kill
  // (it began in a generation and never reported its completion as durable).
  const begins = new Map<string, string[]>();
  const ends = new Set<string>();
  for (const [kind, generation, runId, activityId, attempt] of lines) {
    const key = `${runId} ${activityId} ${attempt}`;
    if (kind === 'BEGIN') begins.set(key, [...(begins.get(key) ?? []), generation!]);
    if (kind === 'END') ends.add(`${generation} ${key}`);
  }
  let reruns = 0;
  for (const [key, generations] of begins) {
    for (const generation of generations.slice(0, -1)) {
      reruns++;
      expect(ends.has(`${generation} ${key}`), `attempt ${key} re-ran although generation ${generation} completed it`).toBe(false);
    }
  }
  // Kills at random moments do cut attempts off; the test proves the rule on real re-runs.
  console.log(`crash test: ${KILLS} kills, ${reruns} attempts re-run after a kill, every acknowledged start present`);
}
