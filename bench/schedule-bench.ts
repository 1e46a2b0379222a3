/**
 * Schedule catch-up benchmark: a schedule every second whose server was down for `--missed`
 * seconds (default 2,000), taken on restart on virtual time, once under `allowAll` (every action
 * starts a workflow and is written before the next) and once under `skip` (one starts, the rest
 * are skipped and written in batches). Reports actions per second of real time, with the
 * store's fsync durability (the server's default).
 *
 *   npx tsx bench/schedule-bench.ts
 *   npx tsx bench/schedule-bench.ts --missed 500 --durability os
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { timerWorkflow } from '../machines/timer.ts';
import type { OverlapPolicy } from '../src/common/schedule-types.ts';
import { Engine } from '../src/engine/engine.ts';
import { LevelStore } from '../src/store/level-store.ts';
import { ScheduleService } from '../src/schedules/schedule-service.ts';
import type { Durability } from '../src/store/store.ts';
import { TestClock } from '../src/testing/test-clock.ts';

const { values: args } = parseArgs({ options: { missed: { type: 'string', default: '2000' }, durability: { type: 'string', default: 'fsync' } } });
const MISSED = Number(args.missed);
const durability = args.durability as Durability;

async function catchUp(overlap: OverlapPolicy): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'perdure-schedule-bench-'));
  const clock = new TestClock({ startAt: Date.UTC(2030, 0, 1) });
  try {
    let engine = await Engine.start({ workflows: [timerWorkflow], store: new LevelStore({ directory: dataDir, durability }), clock });
    let schedules = await ScheduleService.start({ engine, store: engine.store, clock });
    await schedules.create({ scheduleId: 'bench', spec: { interval: { every: '1s' } }, action: { workflowType: 'timer', input: { ms: 3_600_000 } }, policies: { overlap } });
    await schedules.stop();
    await engine.stop();
    await clock.advance(MISSED * 1000); // downtime: nothing runs
    engine = await Engine.start({ workflows: [timerWorkflow], store: new LevelStore({ directory: dataDir, durability }), clock });
    const began = performance.now();
    schedules = await ScheduleService.start({ engine, store: engine.store, clock });
    await schedules.idle();
    const ms = performance.now() - began;
    const { counts } = (await schedules.describe({ scheduleId: 'bench' })).state;
    console.log(`${overlap.padEnd(8)} ${MISSED} actions caught up in ${ms.toFixed(0)} ms: ${(MISSED / (ms / 1000)).toFixed(0)} actions/s (taken ${counts.taken}, skipped ${counts.skipped})`);
    await schedules.stop();
    await engine.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

console.log(`catch-up of a 1 s schedule after ${MISSED} s down (durability ${durability})`);
await catchUp('allowAll');
await catchUp('skip');
