import type { ScheduleOptions } from '../../src/common/schedule-types.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowDefinition } from '../../src/definition/workflow.ts';
import { Engine } from '../../src/engine/engine.ts';
import { ScheduleService } from '../../src/schedules/schedule-service.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import type { Store } from '../../src/store/store.ts';
import { EngineWatch } from '../../src/testing/engine-watch.ts';
import { TestClock } from '../../src/testing/test-clock.ts';

/** An engine and a schedule service on a temp LevelDB directory and one TestClock. */
export interface ScheduleEnv {
  engine: Engine;
  schedules: ScheduleService;
  clock: TestClock;
  dataDir: string;
  /** Stops the service and the engine (time stands still until the test moves it): downtime. */
  down(): Promise<void>;
  /** Starts a new engine and service on the same data (after down()); catch-up runs, and is awaited. */
  up(options?: { workflows?: readonly WorkflowDefinition[]; wrapStore?: (store: Store) => Store }): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * The TestClock waits, before each firing, until the engine (watched through its store) and the
 * schedule service have nothing under way, so an action's start and write happen before the next
 * timer fires, exactly as they would with time passing for real.
 */
export async function startScheduleEnv(options: {
  workflows: readonly WorkflowDefinition[];
  startAt: number;
  wrapStore?: (store: Store) => Store;
}): Promise<ScheduleEnv> {
  const dataDir = await mkdtemp(join(tmpdir(), 'perdure-schedules-'));
  let watch: EngineWatch;
  let env: ScheduleEnv;
  let running = false;
  const settle = async () => {
    for (;;) {
      await watch.idle();
      if (!running || !env.schedules.busy) return;
      await env.schedules.idle();
    }
  };
  const clock = new TestClock({ startAt: options.startAt, idle: settle });
  watch = new EngineWatch(clock, 500);

  env = {
    engine: undefined as unknown as Engine,
    schedules: undefined as unknown as ScheduleService,
    clock,
    dataDir,
    async down() {
      running = false;
      await env.schedules.stop();
      await env.engine.stop();
    },
    async up(more = {}) {
      const wrap = more.wrapStore ?? options.wrapStore ?? ((s: Store) => s);
      const store = watch.wrap(wrap(new LevelStore({ directory: dataDir, durability: 'os' })));
      env.engine = await Engine.start({ workflows: more.workflows ?? options.workflows, store, clock });
      await watch.reset(store);
      env.schedules = await ScheduleService.start({ engine: env.engine, store: env.engine.store, clock });
      running = true;
      await settle();
    },
    async cleanup() {
      if (running) await env.down();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  await env.up();
  return env;
}

/** Where virtual time starts in the schedule tests, and a minute of it. */
export const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
export const MIN = 60_000;
export const iso = (ms: number) => new Date(ms).toISOString();

/** Every minute, a `timer` workflow that sleeps `sleepMs`. */
export function everyMinute(scheduleId: string, sleepMs: number, more: Partial<ScheduleOptions> = {}): ScheduleOptions {
  return { scheduleId, spec: { interval: { every: '1m' } }, action: { workflowType: 'timer', input: { ms: sleepMs } }, ...more };
}
