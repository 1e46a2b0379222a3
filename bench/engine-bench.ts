/**
 * Engine benchmark: the 3-step workflow (three activities in sequence) on the embedded LevelDB
 * store with in-process workers, under each durability setting. Each configuration runs in its
 * own process so memory figures do not mix.
 *
 *   npm run bench                 # all configurations
 *   npm run bench -- --workflows 20000 --in-flight 1000
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { threeStepActivities, threeStepWorkflow } from '../machines/three-step.ts';
import { Engine, type Durability } from '../src/server/index.ts';
import { Worker } from '../src/worker/index.ts';

interface Result {
  durability: Durability;
  workflows: number;
  inFlight: number;
  seconds: number;
  workflowsPerSecond: number;
  eventsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  peakRssMiB: number;
}

const { values } = parseArgs({
  options: {
    workflows: { type: 'string', default: '10000' },
    'in-flight': { type: 'string', default: '500' },
    run: { type: 'string' },
  },
});
const workflows = Number(values.workflows);
const inFlight = Number(values['in-flight']);

if (values.run) {
  process.stdout.write(JSON.stringify(await runOne(values.run as Durability)));
} else {
  const results: Result[] = [];
  for (const durability of ['fsync', 'os'] as const) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--run', durability,
      '--workflows', String(workflows), '--in-flight', String(inFlight)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (child.status !== 0) throw new Error(`bench (${durability}) failed:\n${child.stderr}`);
    results.push(JSON.parse(child.stdout) as Result);
  }
  console.log(`\nPerdure engine bench — 3-step workflow, in-process worker, ${workflows} workflows, ${inFlight} in flight\n`);
  console.table(results.map((r) => ({
    durability: r.durability,
    'workflows/s': Math.round(r.workflowsPerSecond),
    'events/s': Math.round(r.eventsPerSecond),
    'p50 ms': r.latencyMs.p50.toFixed(1),
    'p95 ms': r.latencyMs.p95.toFixed(1),
    'p99 ms': r.latencyMs.p99.toFixed(1),
    'peak RSS MiB': r.peakRssMiB.toFixed(0),
    seconds: r.seconds.toFixed(2),
  })));
}

async function runOne(durability: Durability): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'perdure-bench-'));
  const engine = await Engine.start({ workflows: [threeStepWorkflow], dataDir: dir, durability });
  const worker = Worker.create({ connection: engine, taskQueue: 'bench', activities: threeStepActivities, maxConcurrentActivities: 1000 });
  void worker.run();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  const lane = async () => {
    while (next < workflows) {
      const n = next++;
      const t0 = performance.now();
      const { workflowId } = await engine.start('threeStep', { workflowId: `wf-${n}`, input: { n } });
      await engine.result({ workflowId });
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - began) / 1000;
  clearInterval(sampler);
  // 8 history events per 3-step workflow: started, 3 × (scheduled, completed), completed.
  const events = (await engine.history({ workflowId: 'wf-0' })).length * workflows;
  await worker.shutdown();
  await engine.stop();
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  return {
    durability, workflows, inFlight, seconds,
    workflowsPerSecond: workflows / seconds, eventsPerSecond: events / seconds,
    latencyMs: { p50: pct(50), p95: pct(95), p99: pct(99) },
    peakRssMiB: peakRss / 2 ** 20,
  };
}
