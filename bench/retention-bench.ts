/**
 * Retention benchmark: writes `--runs` closed runs (default 100,000; 5 history events each)
 * into a LevelStore, of which `--expired` (default 1,000) closed long ago, then times one sweep
 * that deletes exactly those, and for contrast a plain scan of every run record (what a sweep
 * without the close-time index would read).
 *
 *   npx tsx bench/retention-bench.ts
 *   npx tsx bench/retention-bench.ts --runs 100000 --expired 10000 --durability fsync
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import type { HistoryEvent } from '../src/common/history.ts';
import { NamespaceRegistry } from '../src/engine/runtime/namespaces.ts';
import { RetentionSweeper } from '../src/engine/runtime/retention-sweeper.ts';
import { keys, prefixRange } from '../src/store/keys.ts';
import { LevelStore } from '../src/store/level-store.ts';
import type { Durability } from '../src/store/store.ts';
import type { RunRecord } from '../src/common/run-model.ts';
import { TestClock } from '../src/testing/test-clock.ts';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '100000' }, expired: { type: 'string', default: '1000' }, durability: { type: 'string', default: 'fsync' } },
});
const RUNS = Number(args.runs);
const EXPIRED = Number(args.expired);
const DAY = 86_400_000;
const NOW = Date.UTC(2030, 0, 1);
const EVENTS = 5;

/** Run i: the first EXPIRED closed 40 days ago (past the 30-day default), the rest an hour ago. */
function runOf(i: number): { run: RunRecord; events: HistoryEvent[] } {
  const closedAt = i < EXPIRED ? NOW - 40 * DAY + i : NOW - 3_600_000 + (i % 1000);
  const run: RunRecord = {
    runId: `run-${String(i).padStart(7, '0')}`, namespace: 'default', workflowId: `cust-${i % 1000}/order-${i}`,
    type: `type-${i % 10}`, version: 'v1', status: 'completed', startedAt: closedAt - 60_000, closedAt, lastSeq: EVENTS,
    snapshot: { value: 'done', context: { i } }, activities: {}, timers: {}, idempotencyKey: `key-${i}`,
  };
  const events: HistoryEvent[] = [{ seq: 1, at: run.startedAt, kind: 'WorkflowStarted', type: run.type, version: 'v1', namespace: 'default', workflowId: run.workflowId, input: { i } }];
  for (let seq = 2; seq <= EVENTS; seq++) events.push({ seq, at: run.startedAt + seq, kind: 'SignalReceived', event: { type: 'PING', n: seq } });
  return { run, events };
}

async function fill(store: LevelStore): Promise<void> {
  const BATCH = 2000;
  for (let from = 0; from < RUNS; from += BATCH) {
    const commits: Promise<void>[] = [];
    for (let i = from; i < Math.min(RUNS, from + BATCH); i++) commits.push(store.commit({ ...runOf(i), previousLastSeq: 0 }));
    await Promise.all(commits);
  }
}

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'perdure-retention-bench-'));
  try {
    const fillStore = new LevelStore({ directory, durability: 'os' });
    await fillStore.open();
    let began = performance.now();
    await fill(fillStore);
    console.log(`wrote ${RUNS} closed runs (${EXPIRED} expired), ${EVENTS} events each, in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    await fillStore.close();

    // What a sweep without an index would have to read: every run record.
    const db = new ClassicLevel<string, Buffer>(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    await db.open();
    began = performance.now();
    let scanned = 0;
    for await (const _ of db.values(prefixRange(keys.run('')))) scanned++;
    const scanMs = performance.now() - began;
    await db.close();

    const store = new LevelStore({ directory, durability: args.durability as Durability });
    await store.open();
    const clock = new TestClock({ startAt: NOW });
    const namespaces = new NamespaceRegistry(store, clock);
    await namespaces.load();
    const sweeper = new RetentionSweeper(store, namespaces, clock, { sweepEveryMs: 0 });
    began = performance.now();
    const report = await sweeper.sweepNow();
    const sweepMs = performance.now() - began;
    if (report.error) throw report.error;
    began = performance.now();
    const again = await sweeper.sweepNow();
    const emptyMs = performance.now() - began;
    const left = (await store.countRuns({ namespace: 'default' })).count;
    await store.close();

    console.log(`scan of every run record (no index):     ${scanned} records in ${scanMs.toFixed(0)} ms`);
    console.log(`sweep deleting ${report.deleted} expired runs (${args.durability}): ${sweepMs.toFixed(0)} ms (${((sweepMs * 1000) / Math.max(1, report.deleted)).toFixed(0)} µs per run)`);
    console.log(`sweep with nothing expired:              ${emptyMs.toFixed(2)} ms (deleted ${again.deleted})`);
    console.log(`runs left: ${left} (expected ${RUNS - EXPIRED})`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
