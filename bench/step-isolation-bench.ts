/**
 * What isolating machine steps costs, per step of the 3-step workflow (docs/workflow-isolation.md):
 *
 * - in-process, no budget: `decide` as before issue 11 (the microstep count alone is always on,
 *   so "no budget" here is a budget too large to matter, without a clock);
 * - in-process, with the budget: the microstep count and the monotonic deadline the engine uses;
 * - on a worker thread: the same step run on a `worker_threads` Worker (the only way to stop a
 *   guard that never returns: `worker.terminate()`), one round trip per step. The worker restores
 *   the snapshot from its stored JSON, steps and persists it, as it must: live snapshots cannot
 *   cross threads, only structured-clonable data.
 *
 *   npx tsx bench/step-isolation-bench.ts [--steps 20000]
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import type { AnyMachineSnapshot } from 'xstate';
import { threeStepWorkflow } from '../machines/three-step.ts';
import { decide, type DeliveredEvent } from '../src/engine/core/decide.ts';
import { persistSnapshot, restoreSnapshot } from '../src/engine/core/machine-step.ts';
import { DEFAULT_STEP_LIMITS, StepBudget } from '../src/engine/core/step-budget.ts';

const started: DeliveredEvent = { kind: 'WorkflowStarted', type: 'threeStep', version: threeStepWorkflow.version, namespace: 'default', workflowId: 'w', input: { n: 1 } };
const completed: DeliveredEvent = { kind: 'ActivityCompleted', activityId: 's1', attempt: 1, output: { n: 1 } };
const ctx = (budget?: StepBudget) => ({ seq: 2, at: 0, workflowId: 'w', activities: ['s1'], timers: [], children: [], history: { length: 2, bytes: 300 }, budget });

/** One step as the engine takes it: the activity of state "one" completes, the machine moves to "two". */
function step(snapshot: AnyMachineSnapshot, budget?: StepBudget): string {
  const decision = decide(threeStepWorkflow, snapshot, completed, ctx(budget));
  return persistSnapshot(threeStepWorkflow.machine, decision.snapshot);
}

if (!isMainThread) {
  // The worker: restore, step, persist, answer.
  parentPort!.on('message', (stored: string) => {
    const budget = new StepBudget(DEFAULT_STEP_LIMITS, () => performance.now());
    parentPort!.postMessage(step(restoreSnapshot(threeStepWorkflow.machine, stored), budget));
  });
} else {
  const { values } = parseArgs({ options: { steps: { type: 'string', default: '20000' } } });
  const steps = Number(values.steps);
  const first = decide(threeStepWorkflow, undefined, started, { ...ctx(), seq: 1, activities: [] }).snapshot;
  const stored = persistSnapshot(threeStepWorkflow.machine, first);

  /** Wall µs and CPU µs (every thread of the process) per step; CPU time is what a busy machine distorts least. */
  const timeIt = async (run: () => unknown | Promise<unknown>): Promise<{ wall: number; cpu: number }> => {
    for (let i = 0; i < 2_000; i++) await run(); // warm up
    const began = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) await run();
    const cpu = process.cpuUsage(cpu0);
    return { wall: ((performance.now() - began) / steps) * 1000, cpu: (cpu.user + cpu.system) / steps };
  };
  const row = (how: string, t: { wall: number; cpu: number }) => ({ how, 'wall µs/step': t.wall.toFixed(1), 'CPU µs/step': t.cpu.toFixed(1) });

  const unbudgeted = new StepBudget({ maxMicrosteps: Number.MAX_SAFE_INTEGER, timeBudgetMs: 1 });
  const budgeted = new StepBudget(DEFAULT_STEP_LIMITS, () => performance.now());
  const noBudgetUs = await timeIt(() => step(first, unbudgeted));
  const budgetUs = await timeIt(() => step(first, budgeted));
  const restoredUs = await timeIt(() => step(restoreSnapshot(threeStepWorkflow.machine, stored), budgeted));

  // tsx's loader is registered per thread: the worker registers it before loading this .ts file.
  const worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`, { eval: true });
  const roundTrip = async () => {
    worker.postMessage(stored);
    await once(worker, 'message');
  };
  const workerUs = await timeIt(roundTrip);
  await worker.terminate();

  console.log(`\nPerdure step isolation bench: one step of the 3-step workflow (ActivityCompleted → next activity), ${steps} steps each.\n`);
  console.table([
    row('in-process, microsteps counted, no deadline', noBudgetUs),
    row('in-process, budget (microsteps + deadline)', budgetUs),
    row('in-process, restore from JSON + budget', restoredUs),
    row('worker thread round trip (restore + step + persist there)', workerUs),
  ]);
}
