import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duration } from '../common/activity-options.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { systemClock, type Clock } from '../common/clock.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import { LevelStore } from '../store/level-store.ts';
import type { Durability, Store } from '../store/store.ts';
import { EngineWatch } from './engine-watch.ts';
import { TestClock } from './test-clock.ts';

/** What an engine is started with, but its store: the testing kit makes the store itself. */
export type EngineSettings = Omit<EngineOptions, 'store'>;

export interface TestEngineOptions extends EngineSettings {
  /** The LevelDB store's directory. Default: a fresh temp directory, deleted by cleanup(). */
  dataDir?: string;
  /** Default 'os': a test needs no power-loss safety, and runs faster without a sync per batch. */
  durability?: Durability;
  /**
   * Run the engine on virtual time (a TestClock): timers, activity retry backoffs and activity
   * timeouts fire when time is skipped, not when it passes. Time skips by itself while
   * `engine.result()` is awaited and the engine is idle; `skip()` moves it explicitly.
   */
  timeSkipping?: boolean;
  /** With timeSkipping: where virtual time starts (ms since the epoch, or a Date). Default: now. */
  startAt?: number | Date;
  /**
   * With timeSkipping: how long (real ms) an activity attempt that is due and has not reported
   * holds virtual time still, so that an in-process activity's own real time never looks like a
   * timeout. After it, time moves on (an activity that hangs on purpose gets its timeout). Default 500.
   */
  activityHoldMs?: number;
}

export interface TestEngine<C extends Clock = Clock> {
  /** The engine. With timeSkipping, its `result()` skips time while it waits. */
  engine: Engine;
  dataDir: string;
  /** The engine's clock: a TestClock with timeSkipping, else the system clock (or the one given). */
  clock: C;
  readonly timeSkipping: boolean;
  /**
   * Moves virtual time forward by `duration`, firing timers on the way in order; resolves once
   * the engine has handled the last one. Needs timeSkipping.
   */
  skip(duration: Duration): Promise<void>;
  /** Skips from timer to timer while the engine is idle, until no timer is left. Needs timeSkipping. */
  runUntilIdle(options?: { until?: number | Date }): Promise<number>;
  /** Stops the engine and opens a new one on the same data (and the same clock): a restart. */
  restart(options?: Partial<EngineSettings>): Promise<Engine>;
  /** Stops the engine and deletes its data directory (when it made it). */
  cleanup(): Promise<void>;
}

/**
 * An engine on a fresh LevelDB store in a temp directory, for tests. With `timeSkipping: true`
 * it runs on virtual time: a workflow that waits a day finishes in milliseconds, and its history
 * records exactly the day.
 *
 * @example
 * const t = await createTestEngine({ workflows: [approvalWorkflow], timeSkipping: true });
 * try {
 *   const { workflowId } = await t.engine.start('approval', { input: { request: 'desk', timeoutMs: 86_400_000 } });
 *   const result = await t.engine.result({ workflowId }); // skips the day: returns at once
 *   expect(result.output.decision).toBe('expired');
 * } finally {
 *   await t.cleanup();
 * }
 */
export async function createTestEngine(options: TestEngineOptions & { timeSkipping: true }): Promise<TestEngine<TestClock>>;
export async function createTestEngine(options: TestEngineOptions): Promise<TestEngine>;
export async function createTestEngine(options: TestEngineOptions): Promise<TestEngine<Clock>> {
  const { timeSkipping = false, startAt, activityHoldMs = 500, dataDir: givenDir, durability = 'os', ...base } = options;
  if (timeSkipping && base.clock) {
    throw new InvalidArgumentError('createTestEngine: give timeSkipping or a clock, not both (time skipping brings its own TestClock)');
  }
  const dataDir = givenDir ?? (await mkdtemp(join(tmpdir(), 'perdure-test-')));
  // A new store for each (re)start: stopping an engine closes its store.
  const levelStore = () => new LevelStore({ directory: dataDir, durability });

  if (!timeSkipping) {
    const needsTimeSkipping = (): Promise<never> =>
      Promise.reject(new InvalidArgumentError('skip() and runUntilIdle() need virtual time: createTestEngine({ …, timeSkipping: true })'));
    const t: TestEngine = {
      engine: await Engine.start({ ...base, store: levelStore() }),
      dataDir,
      clock: base.clock ?? systemClock,
      timeSkipping: false,
      skip: needsTimeSkipping,
      runUntilIdle: needsTimeSkipping,
      async restart(more = {}) {
        await t.engine.stop();
        t.engine = await Engine.start({ ...base, ...more, store: levelStore() });
        return t.engine;
      },
      async cleanup() {
        await t.engine.stop();
        if (!givenDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
    return t;
  }

  const time = virtualTime(startAt, activityHoldMs);
  let stopped = false;
  const { clock } = time;

  const open = async (more: Partial<EngineSettings>): Promise<Engine> => {
    const store = time.watchStore(levelStore());
    const engine = await Engine.start({ ...base, ...more, clock, store });
    await time.attach(engine, store, () => stopped || t.engine !== engine);
    return engine;
  };

  const t: TestEngine<TestClock> = {
    engine: undefined as unknown as Engine,
    dataDir,
    clock,
    timeSkipping: true,
    skip: (duration) => clock.advance(duration),
    runUntilIdle: (more) => clock.runUntilIdle(more),
    async restart(more = {}) {
      await t.engine.stop();
      t.engine = await open(more);
      return t.engine;
    },
    async cleanup() {
      stopped = true;
      await t.engine.stop();
      if (!givenDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  t.engine = await open({});
  return t;
}

/**
 * Virtual time for an engine (in-process, or inside a test server): a TestClock that skips while
 * the engine is idle, and the watch over its store that tells when it is.
 */
export interface VirtualTime {
  readonly clock: TestClock;
  /** The store the engine must be given, so the watch sees every step it takes. */
  watchStore(store: Store): Store;
  /** Call once the engine on that store has started; `gone` says when it was replaced or stopped. */
  attach(engine: Engine, store: Store, gone: () => boolean): Promise<void>;
}

export function virtualTime(startAt: number | Date | undefined, activityHoldMs: number): VirtualTime {
  // The clock's idle hook and the watch refer to each other; the hook runs only after both exist.
  let watch: EngineWatch;
  const clock = new TestClock({ startAt, idle: () => watch.idle() });
  watch = new EngineWatch(clock, activityHoldMs);
  return {
    clock,
    watchStore: (store) => watch.wrap(store),
    async attach(engine, store, gone) {
      await watch.reset(store);
      skipWhileAwaitingResults(engine, clock, gone);
    },
  };
}

/**
 * Auto-skip: while a caller awaits `engine.result()`, each time the engine is idle the clock
 * skips to the next timer, so a result that waits on a day-long timer arrives at once. Time is
 * otherwise still: between `start()` and `signal()` no timer fires behind the test's back.
 *
 * A result's own `timeoutMs` counts virtual time too (it is a timer on the engine's clock).
 */
function skipWhileAwaitingResults(engine: Engine, clock: TestClock, gone: () => boolean): void {
  const result = engine.result.bind(engine);
  // An own property shadows the prototype's method on this one instance; the Engine class and
  // every other engine are untouched.
  engine.result = async (ref, options) => {
    const pending = result(ref, options);
    let done = false;
    pending.then(() => (done = true), () => (done = true));
    while (!done && !gone()) {
      const skipped = await clock.skipToNextTimer(() => done || gone());
      // No timer to skip to: the result waits for something outside time (a signal, a worker).
      if (!skipped && !done) await new Promise((resolve) => globalThis.setTimeout(resolve, 5));
    }
    return pending;
  };
}
