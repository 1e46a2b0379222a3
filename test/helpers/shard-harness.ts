import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowDefinition } from '../../src/definition/workflow.ts';
import { DEFAULT_HISTORY_LIMITS } from '../../src/engine/core/history-limits.ts';
import { WorkflowRegistry } from '../../src/engine/core/registry.ts';
import { resolveStepLimits } from '../../src/engine/core/step-budget.ts';
import { ActivityDispatcher } from '../../src/engine/runtime/activity-dispatcher.ts';
import { LocalActivityRunner } from '../../src/engine/runtime/local-activities.ts';
import { NamespaceRegistry } from '../../src/engine/runtime/namespaces.ts';
import type { ShardRuntime } from '../../src/engine/runtime/shard-runtime.ts';
import { ShardRuntimes } from '../../src/engine/runtime/shard-runtimes.ts';
import { completionHost, definitionOfTask, TaskRouter } from '../../src/engine/runtime/task-router.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import type { Store } from '../../src/store/store.ts';
import { TestClock } from '../../src/testing/test-clock.ts';

/**
 * A store that counts its calls and knows when none is in flight. A LevelDB call completes on a
 * later event-loop turn, while the engine's steps between two calls are microtasks: so once no
 * call has been in flight for two turns, whatever the last firing started is done. The test
 * clock awaits that before each firing, so a test reads what a firing did right after advance().
 */
export function quietStore(store: Store): { store: Store; calls: Map<string, number>; idle: () => Promise<void> } {
  let inFlight = 0;
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        inFlight++;
        return result.finally(() => inFlight--);
      };
    },
  });
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const idle = async () => {
    for (let quietTurns = 0; quietTurns < 2;) {
      await turn();
      quietTurns = inFlight === 0 ? quietTurns + 1 : 0;
    }
  };
  return { store: proxy, calls, idle };
}

/** Runs `body` on a fresh LevelStore in a temp directory, its calls counted (see quietStore), on a test clock that waits for them. */
export async function withQuietStore(body: (h: { store: Store; raw: Store; calls: Map<string, number>; clock: TestClock }) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'perdure-shard-'));
  const raw = new LevelStore({ directory, durability: 'os' });
  await raw.open();
  const { store, calls, idle } = quietStore(raw);
  const clock = new TestClock({ startAt: Date.UTC(2030, 0, 1), idle });
  try {
    await body({ store, raw, calls, clock });
  } finally {
    await raw.close();
    await rm(directory, { recursive: true, force: true });
  }
}

export interface ShardHarness {
  store: Store;
  calls: Map<string, number>;
  clock: TestClock;
  runtimes: ShardRuntimes;
  /** The runtime of shard 0, the one shard of LevelDB. */
  shard: ShardRuntime;
}

export interface ShardHarnessOptions {
  workflows: WorkflowDefinition[];
  idleEvictMs?: number;
  /** False: the durable timer service is stopped once the shard starts, so a test fires entries (outbox items) itself. */
  timers?: boolean;
  /** Wraps the store the runtimes are given (to record what they ask of it). */
  wrap?: (store: Store) => Store;
}

/**
 * The engine's shard runtimes wired as `Engine` wires them, over a real LevelStore in a temp
 * directory and a test clock, without the engine facade: for unit tests of the runtime's parts.
 */
export async function withShard(options: ShardHarnessOptions, body: (h: ShardHarness) => Promise<void>): Promise<void> {
  await withQuietStore(async ({ store: quiet, calls, clock }) => {
    const store = options.wrap ? options.wrap(quiet) : quiet;
    const registry = new WorkflowRegistry(options.workflows);
    const namespaces = new NamespaceRegistry(store, clock);
    await namespaces.load();
    let runtimes: ShardRuntimes | undefined;
    const executionsOf = (shard: number) => runtimes?.get(shard)?.executions;
    const dispatcher = new ActivityDispatcher(completionHost(clock, executionsOf), 10_000);
    const router = new TaskRouter(dispatcher, new LocalActivityRunner(dispatcher, (task) => definitionOfTask(executionsOf, task)));
    runtimes = new ShardRuntimes(store.shards(), {
      store, registry, namespaces, clock, dispatcher, router,
      historyLimits: DEFAULT_HISTORY_LIMITS, maxPayloadBytes: 4 * 1024 * 1024, stepLimits: resolveStepLimits(), idleEvictMs: options.idleEvictMs ?? 60_000,
    }, (error) => { throw error; });
    await runtimes.start();
    const shard = runtimes.get(0)!;
    if (options.timers === false) shard.timers.stop();
    try {
      await body({ store, calls, clock, runtimes, shard });
    } finally {
      await runtimes.stop();
    }
  });
}
