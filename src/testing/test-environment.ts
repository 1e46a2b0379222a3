import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../common/errors.ts';
import { systemClock, type Clock } from '../common/clock.ts';
import type { Engine, EngineOptions } from '../engine/engine.ts';
import type { PerdureServer } from '../server/create-server.ts';
import { Worker, type ActivityFunction } from '../worker/index.ts';
import { createTestEngine, virtualTime, type TestEngine, type TestEngineOptions } from './test-engine.ts';
import { LevelStore } from '../store/level-store.ts';
import type { TestClock } from './test-clock.ts';

/** Activities served in-process on one task queue. */
export interface TestWorkerOptions {
  taskQueue: string;
  activities: Record<string, ActivityFunction>;
  /** Default 'default'. Created on the test engine if it does not exist. */
  namespace?: string;
  /** Default 100. */
  maxConcurrentActivities?: number;
}

export interface TestEnvironmentOptions extends TestEngineOptions {
  /** In-process workers, one per task queue, connected straight to the engine (no sockets). */
  workers?: readonly TestWorkerOptions[];
  /**
   * Also serve the engine on a real server (WebSocket hub and HTTP API, on a free loopback
   * port), for tests of clients and remote workers; with `timeSkipping`, on virtual time.
   */
  server?: boolean;
}

export interface TestEnvironment<C extends Clock = Clock> extends TestEngine<C> {
  /** The workers now running (made again by restart()). */
  readonly workers: readonly Worker[];
  /** With `server: true`: its url and wsUrl, for a Client or a remote Worker. */
  readonly server?: PerdureServer;
}

/**
 * An engine on a temp store with in-process workers for your activities: everything a workflow
 * needs, in one call, and one cleanup(). With `timeSkipping: true`, retries back off and
 * activities time out on virtual time.
 *
 * @example
 * const env = await createTestEnvironment({
 *   workflows: [flakyWorkflow],
 *   workers: [{ taskQueue: 'flaky', activities: flakyActivities }],
 *   timeSkipping: true,
 * });
 * try {
 *   const { workflowId } = await env.engine.start('flaky', { input: { key: 'k', failTimes: 3 } });
 *   expect((await env.engine.result({ workflowId })).output).toMatchObject({ attempts: 4 });
 * } finally {
 *   await env.cleanup();
 * }
 */
export async function createTestEnvironment(options: TestEnvironmentOptions & { timeSkipping: true }): Promise<TestEnvironment<TestClock>>;
export async function createTestEnvironment(options: TestEnvironmentOptions): Promise<TestEnvironment>;
export async function createTestEnvironment(options: TestEnvironmentOptions): Promise<TestEnvironment<Clock>> {
  const { workers: specs = [], server, ...engineOptions } = options;
  if (server) return withServer(engineOptions, specs);
  const t = await createTestEngine(engineOptions);
  let workers = await startWorkers(t.engine, specs);
  const stopWorkers = async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    workers = [];
  };
  const { restart, cleanup } = t;
  const env = t as TestEngine & { workers: readonly Worker[] };
  Object.defineProperty(env, 'workers', { get: () => workers, enumerable: true });
  env.restart = async (more: Partial<EngineOptions> = {}) => {
    await stopWorkers();
    const engine = await restart(more);
    workers = await startWorkers(engine, specs);
    return engine;
  };
  env.cleanup = async () => {
    await stopWorkers();
    await cleanup();
  };
  return env;
}

/**
 * The environment on a real server (in this process, on a free loopback port). With
 * `timeSkipping`, the server's engine runs on the test's virtual time: a client's `result()`
 * skips timers while the engine is idle, as `engine.result()` does in process.
 */
async function withServer(options: TestEngineOptions, specs: readonly TestWorkerOptions[]): Promise<TestEnvironment> {
  if (options.timeSkipping && options.clock) {
    throw new InvalidArgumentError('createTestEnvironment: give timeSkipping or a clock, not both (time skipping brings its own TestClock)');
  }
  // Loaded only here: tests that need no server do not load the hub, HTTP API and UI.
  const { createServer } = await import('../server/create-server.ts');
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'perdure-test-')));
  const durability = options.durability ?? 'os';
  const time = options.timeSkipping ? virtualTime(options.startAt, options.activityHoldMs ?? 500) : undefined;
  let stopped = false;
  let server: PerdureServer;
  const start = async (port = 0) => {
    const store = time?.watchStore(new LevelStore({ directory: dataDir, durability }));
    const started = await createServer({
      workflows: options.workflows, dataDir, durability, port, logger: false, store, clock: time?.clock ?? options.clock,
      workerLostGraceMs: options.workerLostGraceMs, historyLimits: options.historyLimits, maxPayloadBytes: options.maxPayloadBytes,
    });
    if (time) await time.attach(started.engine, store!, () => stopped || server !== started);
    return started;
  };
  server = await start();
  let workers = await startWorkers(server.engine, specs);
  const stopWorkers = async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    workers = [];
  };
  const needsTimeSkipping = (): Promise<never> =>
    Promise.reject(new InvalidArgumentError('skip() and runUntilIdle() need virtual time: createTestEnvironment({ …, server: true, timeSkipping: true })'));
  return {
    get engine() {
      return server.engine;
    },
    get server() {
      return server;
    },
    get workers() {
      return workers;
    },
    dataDir,
    clock: time?.clock ?? options.clock ?? systemClock,
    timeSkipping: time !== undefined,
    skip: time ? (duration) => time.clock.advance(duration) : needsTimeSkipping,
    runUntilIdle: time ? (more) => time.clock.runUntilIdle(more) : needsTimeSkipping,
    async restart() {
      await stopWorkers();
      await server.close();
      server = await start(server.port); // the same port: clients and workers reconnect
      workers = await startWorkers(server.engine, specs);
      return server.engine;
    },
    async cleanup() {
      stopped = true;
      await stopWorkers();
      await server.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startWorkers(engine: Engine, specs: readonly TestWorkerOptions[]): Promise<Worker[]> {
  // A namespace a test's worker names is made for it: the test declared it by naming it.
  for (const name of new Set(specs.map((s) => s.namespace).filter((n): n is string => n !== undefined))) {
    if (!engine.namespaces.has(name)) await engine.namespaces.create({ name });
  }
  return specs.map((spec) => {
    const worker = Worker.create({ connection: engine, ...spec });
    // run() settles when shutdown() has drained; its rejection would only repeat a failed start.
    worker.run().catch(() => {});
    return worker;
  });
}
