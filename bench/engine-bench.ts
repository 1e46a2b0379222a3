/**
 * Engine benchmark: the 3-step workflow (three activities in sequence) on the embedded LevelDB
 * store with an in-process worker. Each configuration runs in its own process, so memory
 * figures do not mix:
 *
 * - throughput: `--workflows` workflows with `--in-flight` of them running at once;
 * - latency: `--sequential` workflows one at a time (start → result), percentiles.
 *
 *   npm run bench
 *   npm run bench -- --workflows 30000 --in-flight 500
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { threeStepActivities, threeStepWorkflow } from '../machines/three-step.ts';
import { Engine, LevelStore, type Durability } from '../src/server/index.ts';
import { Worker } from '../src/worker/index.ts';
import { SERVER_NODE_FLAGS, percentile } from './lib/processes.ts';

interface Config {
  name: string;
  durability: Durability;
  nodeFlags: string[];
}

const CONFIGS: Config[] = [
  { name: 'fsync', durability: 'fsync', nodeFlags: SERVER_NODE_FLAGS },
  { name: 'os', durability: 'os', nodeFlags: SERVER_NODE_FLAGS },
  { name: 'fsync, default V8 heap', durability: 'fsync', nodeFlags: [] },
];

interface Result {
  workflowsPerSecond: number;
  eventsPerSecond: number;
  throughputLatencyP50: number;
  latency: { p50: number; p95: number; p99: number };
  peakRssMiB: number;
}

const { values } = parseArgs({
  options: {
    workflows: { type: 'string', default: '15000' },
    'in-flight': { type: 'string', default: '300' },
    sequential: { type: 'string', default: '300' },
    run: { type: 'string' },
  },
});
const workflows = Number(values.workflows);
const inFlight = Number(values['in-flight']);
const sequential = Number(values.sequential);

if (values.run) {
  process.stdout.write(JSON.stringify(await runOne(values.run as Durability)));
} else {
  const rows: Record<string, string | number>[] = [];
  for (const config of CONFIGS) {
    const child = spawnSync(process.execPath, [...config.nodeFlags, '--import', 'tsx', fileURLToPath(import.meta.url),
      '--run', config.durability, '--workflows', String(workflows), '--in-flight', String(inFlight), '--sequential', String(sequential)],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (child.status !== 0) throw new Error(`bench (${config.name}) failed:\n${child.stderr}`);
    const r = JSON.parse(child.stdout) as Result;
    rows.push({
      configuration: config.name,
      'workflows/s': Math.round(r.workflowsPerSecond),
      'events/s': Math.round(r.eventsPerSecond),
      [`p50 ms @${inFlight}`]: r.throughputLatencyP50.toFixed(1),
      'p50 ms @1': r.latency.p50.toFixed(2),
      'p95 ms @1': r.latency.p95.toFixed(2),
      'p99 ms @1': r.latency.p99.toFixed(2),
      'peak RSS MiB': Math.round(r.peakRssMiB),
    });
  }
  console.log(`\nPerdure engine bench: 3-step workflow, in-process worker, LevelDB store.`);
  console.log(`Throughput: ${workflows} workflows, ${inFlight} in flight. Latency (@1): ${sequential} workflows one at a time, start to result.\n`);
  console.table(rows);
}

async function runOne(durability: Durability): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'perdure-bench-'));
  const engine = await Engine.start({ workflows: [threeStepWorkflow], store: new LevelStore({ directory: dir, durability }) });
  const worker = Worker.create({ connection: engine, taskQueue: 'bench', activities: threeStepActivities, maxConcurrentActivities: 1000 });
  void worker.run();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

  const one = async (id: string, n: number): Promise<number> => {
    const t0 = performance.now();
    const { workflowId } = await engine.start('threeStep', { workflowId: id, input: { n } });
    await engine.result({ workflowId });
    return performance.now() - t0;
  };

  const throughputLatencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < workflows) {
      const n = next++;
      throughputLatencies.push(await one(`wf-${n}`, n));
    }
  }));
  const seconds = (performance.now() - began) / 1000;
  const events = (await engine.history({ workflowId: 'wf-0' })).length * workflows;

  const latencies: number[] = [];
  for (let i = 0; i < sequential; i++) latencies.push(await one(`seq-${i}`, i));

  clearInterval(sampler);
  await worker.shutdown();
  await engine.stop();
  await rm(dir, { recursive: true, force: true });
  return {
    workflowsPerSecond: workflows / seconds,
    eventsPerSecond: events / seconds,
    throughputLatencyP50: percentile(throughputLatencies, 50),
    latency: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    peakRssMiB: peakRss / 2 ** 20,
  };
}
