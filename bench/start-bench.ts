/**
 * Starts over HTTP and over the client SDK, side by side against one server (issue 12: "the SDK
 * path must not be slower than HTTP"). The server is `perdure server` (SERVER_NODE_FLAGS of
 * bench/lib) on a LevelDB store in a temp directory, durability `fsync`; the workflow is the
 * counter (machines/counter.ts), which starts and then waits for a signal, so each start is one
 * durable write and nothing after it. This process is the load:
 *
 * - HTTP: autocannon, `--connections` keep-alive connections, each `POST
 *   /api/v1/namespaces/default/workflows` with its own workflow id, as a user would call it;
 * - SDK, one client: one `Client.connect` (one WebSocket) with `--connections` starts in flight;
 * - SDK, one client each: `--connections` clients with one start in flight each, like the HTTP
 *   connections.
 *
 * Each phase makes `--starts` starts after a warm-up of each; the phases take turns for
 * `--rounds` rounds, so that a store growing or a neighbour's load does not favour one path.
 * Every answer is checked: failed starts are counted and printed beside the throughput, and
 * the server is asked afterwards how many executions each phase made.
 *
 *   npm run bench:starts
 *   npm run bench:starts -- --starts 20000 --rounds 5 --connections 100
 *   npm run bench:starts -- --phases http --profile-dir /tmp/prof   # one path alone, the server's CPU profile
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Client } from '../src/client/index.ts';
import { BenchProcesses, SERVER_NODE_FLAGS, cpuBusy, cpuSeconds, percentile, stop } from './lib/processes.ts';

const { values } = parseArgs({
  options: {
    starts: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1000' },
    durability: { type: 'string', default: 'fsync' },
    /** Which phases run, of `http`, `sdk` (one client) and `sdk-clients` (one client each): one alone, to profile it. */
    phases: { type: 'string', default: 'http,sdk,sdk-clients' },
    /** Write the server's CPU profile (a .cpuprofile for Chrome DevTools) into this directory. */
    'profile-dir': { type: 'string' },
  },
});
const starts = Number(values.starts);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);

const WORKFLOW_TYPE = 'counter';
const START_PATH = '/api/v1/namespaces/default/workflows';

/** What one phase did: latencies of the starts that succeeded, what failed (by reason), and when the last answer came (performance.now()). */
interface PhaseResult {
  latencies: number[];
  failures: Map<string, number>;
  lastAnswerAt: number;
}

interface Measured extends PhaseResult {
  path: string;
  prefix: string;
  /** The share of the cores busy with other work in the second before the phase. */
  busyBefore: number;
  seconds: number;
  serverCpu: number;
  benchCpu: number;
}

type Phase = (prefix: string, count: number) => Promise<PhaseResult>;

function countFailure(failures: Map<string, number>, reason: string): void {
  failures.set(reason, (failures.get(reason) ?? 0) + 1);
}

/** `count` HTTP starts by autocannon over `connections` connections, ids `<prefix>-<n>`. */
function httpStarts(url: string, prefix: string, count: number): Promise<PhaseResult> {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let lastAnswerAt = NaN;
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: url + START_PATH, connections, amount: count, method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [{
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ type: WORKFLOW_TYPE, workflowId: `${prefix}-${next++}`, input: {} }) }),
      }],
    }, (error, result) => {
      if (error) return reject(error);
      // A connection error or a timeout has no response: autocannon counts them apart.
      if (result.errors > 0) failures.set(`connection errors (of which ${result.timeouts} timeouts)`, result.errors);
      resolve({ latencies, failures, lastAnswerAt });
    });
    // autocannon's own figures will not do: its percentiles are whole milliseconds, and it ends
    // (and so calls back) on its next one-second tick, which would round every phase up to whole
    // seconds. Each response's time is taken instead, the same way as the SDK phases.
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastAnswerAt = performance.now();
      if (statusCode === 201) latencies.push(responseTime);
      else countFailure(failures, `HTTP ${statusCode}`);
    });
  });
}

/**
 * `count` starts, ids `<prefix>-<n>`, on as many lanes as `lanes` has: each lane makes one start
 * at a time with its own function (its own client, or all the same one). Times each start and
 * counts what fails by its code.
 */
async function sdkStarts(prefix: string, count: number, lanes: readonly ((id: string) => Promise<unknown>)[]): Promise<PhaseResult> {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let next = 0;
  await Promise.all(lanes.map(async (start) => {
    while (next < count) {
      const id = `${prefix}-${next++}`;
      const t0 = performance.now();
      try {
        await start(id);
        latencies.push(performance.now() - t0);
      } catch (error) {
        countFailure(failures, (error as { code?: string }).code ?? String(error));
      }
    }
  }));
  return { latencies, failures, lastAnswerAt: performance.now() };
}

// Other work on the machine skews every figure: say how busy it was just before the bench.
const busyBefore = await cpuBusy(1000);
const dataDir = await mkdtemp(join(tmpdir(), 'perdure-start-bench-'));
const processes = new BenchProcesses();
try {
  const profile = values['profile-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${values['profile-dir']}`] : [];
  const server = await processes.startServer({
    dataDir, nodeFlags: profile, args: ['--durability', String(values.durability), '--workflows', 'machines/counter.ts'],
  });
  const serverPid = server.child.pid!;
  const client = await Client.connect({ address: server.url, identity: 'start-bench' });
  const clients = await Promise.all(Array.from({ length: connections }, (_, i) => Client.connect({ address: server.url, identity: `start-bench-${i}` })));
  const start = (on: Client) => (id: string) => on.start(WORKFLOW_TYPE, { workflowId: id, input: {} });
  const oneClient = Array.from({ length: connections }, () => start(client));
  const clientEach = clients.map(start);

  const allPhases: { name: string; path: string; run: Phase }[] = [
    { name: 'http', path: `HTTP (autocannon), ${connections} connections`, run: (prefix, count) => httpStarts(server.url, prefix, count) },
    { name: 'sdk', path: `SDK, 1 client, ${connections} in flight`, run: (prefix, count) => sdkStarts(prefix, count, oneClient) },
    { name: 'sdk-clients', path: `SDK, ${connections} clients, 1 in flight each`, run: (prefix, count) => sdkStarts(prefix, count, clientEach) },
  ];
  const chosen = String(values.phases).split(',');
  const phases = allPhases.filter((phase) => chosen.includes(phase.name));
  if (phases.length !== chosen.length) throw new Error(`--phases: choose among ${allPhases.map((p) => p.name).join(', ')}; got "${values.phases}"`);

  // Warm-up: lets V8 optimise each path's hot code before anything is measured.
  for (const [i, phase] of phases.entries()) await phase.run(`warmup${i}`, warmup);

  const measured: Measured[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, phase] of phases.entries()) {
      const prefix = `r${round}p${i}`;
      const busyBefore = await cpuBusy(1000);
      const cpuBefore = await Promise.all([cpuSeconds(serverPid), cpuSeconds(process.pid)]);
      const began = performance.now();
      const result = await phase.run(prefix, starts);
      const seconds = (result.lastAnswerAt - began) / 1000;
      // Read after autocannon's last tick (up to a second after the last answer): both
      // processes are idle by then, so the wait adds no CPU.
      const cpuAfter = await Promise.all([cpuSeconds(serverPid), cpuSeconds(process.pid)]);
      measured.push({ ...result, path: phase.path, prefix, busyBefore, seconds, serverCpu: cpuAfter[0]! - cpuBefore[0]!, benchCpu: cpuAfter[1]! - cpuBefore[1]! });
    }
  }

  // The server's own count of what each phase made: a start answered as a success must be there.
  const made = await Promise.all(measured.map((m) => client.count({ workflowIdPrefix: `${m.prefix}-` })));

  await Promise.all([client, ...clients].map((c) => c.close()));
  await stop(server.child);

  const rows = measured.map((m, i) => {
    const failed = [...m.failures.values()].reduce((a, b) => a + b, 0);
    const ok = m.latencies.length;
    return {
      path: m.path,
      'busy before': `${Math.round(m.busyBefore * 100)}%`,
      'starts/s': Math.round(ok / m.seconds),
      'p50 ms': percentile(m.latencies, 50).toFixed(1),
      'p99 ms': percentile(m.latencies, 99).toFixed(1),
      'server CPU s / 1,000': (m.serverCpu / (ok / 1000)).toFixed(2),
      'load CPU s / 1,000': (m.benchCpu / (ok / 1000)).toFixed(2),
      ok,
      failed,
      'made (server)': made[i]!.count,
    };
  });
  console.log(`\nPerdure starts bench: HTTP and the client SDK against one server (${SERVER_NODE_FLAGS.join(' ')}, durability ${values.durability}),`);
  console.log(`workflow "${WORKFLOW_TYPE}" (starts, then waits for a signal); ${starts} starts per phase, ${rounds} rounds, the phases taking turns.`);
  console.log('Latencies are from this process (the load), start sent to answer; "load CPU" is this process, which sends every request.');
  console.log(`CPU busy with other work in the second before: ${Math.round(busyBefore * 100)}% of ${availableParallelism()} cores` +
    `${busyBefore > 0.1 ? ' (the figures below are pessimistic)' : ''}.\n`);
  console.table(rows);
  if (rounds > 1) {
    console.log('\nBy path, over the rounds: the median (lowest–highest).');
    console.table(phases.map((phase) => {
      const of = measured.filter((m) => m.path === phase.path);
      const range = (values: number[], digits: number) =>
        `${percentile(values, 50).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
      return {
        path: phase.path,
        'starts/s': range(of.map((m) => m.latencies.length / m.seconds), 0),
        'p50 ms': range(of.map((m) => percentile(m.latencies, 50)), 1),
        'server CPU s / 1,000': range(of.map((m) => m.serverCpu / (m.latencies.length / 1000)), 2),
      };
    }));
  }
  const failures = measured.flatMap((m) => [...m.failures].map(([reason, n]) => `  ${m.prefix} ${m.path}: ${n} × ${reason}`));
  const missing = rows.filter((row) => row['made (server)'] !== row.ok);
  if (failures.length > 0) console.log(`Failed starts (not counted in starts/s):\n${failures.join('\n')}`);
  if (missing.length > 0) console.log(`The server's count differs from the starts answered as made: ${missing.map((r) => r.path).join('; ')}`);
  if (failures.length > 0 || missing.length > 0) process.exitCode = 1;
} finally {
  processes.killAll();
  await rm(dataDir, { recursive: true, force: true });
}
