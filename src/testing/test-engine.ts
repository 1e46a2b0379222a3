import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineOptions } from '../engine/engine.ts';

export interface TestEngine {
  engine: Engine;
  dataDir: string;
  /** Stops the engine and opens a new one on the same data: a restart. */
  restart(options?: Partial<EngineOptions>): Promise<Engine>;
  /** Stops the engine and deletes its data directory. */
  cleanup(): Promise<void>;
}

/**
 * An engine on a fresh LevelDB store in a temp directory, for tests.
 *
 * @example
 * const t = await createTestEngine({ workflows: [orderWorkflow] });
 * try { … t.engine.start('order', { input }) … } finally { await t.cleanup() }
 */
export async function createTestEngine(options: Omit<EngineOptions, 'dataDir' | 'store'> & { dataDir?: string }): Promise<TestEngine> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'perdure-test-')));
  const base = { durability: 'os' as const, ...options, dataDir };
  const t: TestEngine = {
    engine: await Engine.start(base),
    dataDir,
    async restart(more = {}) {
      await t.engine.stop();
      t.engine = await Engine.start({ ...base, ...more });
      return t.engine;
    },
    async cleanup() {
      await t.engine.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
