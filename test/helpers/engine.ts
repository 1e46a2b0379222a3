import { Worker } from '../../src/worker/index.ts';
import type { ActivityFunction } from '../../src/worker/index.ts';
import type { Engine } from '../../src/server/index.ts';
import type { HistoryEvent } from '../../src/index.ts';

/** Starts an in-process worker on the engine; returns it so the test can shut it down. */
export function runWorker(engine: Engine, taskQueue: string, activities: Record<string, ActivityFunction>, maxConcurrentActivities = 50): Worker {
  const worker = Worker.create({ connection: engine, taskQueue, activities, maxConcurrentActivities });
  void worker.run();
  return worker;
}

/** Asserts the history is numbered 1..n without gaps or repeats. */
export function seqs(history: HistoryEvent[]): number[] {
  return history.map((e) => e.seq);
}

export function kinds(history: HistoryEvent[]): string[] {
  return history.map((e) => e.kind);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined (tests never assert timings). */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
