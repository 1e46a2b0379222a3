/**
 * Scale benchmark (issue 12): how Perdure holds many open executions, a long history, and many
 * timers due at once. The server is `perdure server` (bench/lib/processes.ts) on a LevelDB store
 * in a temp directory, a fresh one for each measurement; this process is the client (the client
 * SDK over WebSocket). Figures go to docs/performance.md.
 *
 * - for each N of `--sizes`: N executions of `scaleWait` (bench/scale-workflows.ts), each waiting
 *   on a signal with a one-hour timer, started with `--in-flight` at once: start rate; server
 *   RSS while starting (peak) and after `--idle-wait-ms` idle (the server passivates after
 *   `--idle-evict-ms`); disk per execution; restart after SIGKILL, then after SIGTERM, until a
 *   signal to the oldest open execution completed; then the time to signal the rest to completion;
 * - one counter execution signalled to `--history-events` events: signal, describe and history
 *   latency at 10, 1,000 and 10,000 events;
 * - `--timers` durable timers due at the same instant: how late they fired.
 *
 *   npm run bench:scale                                  # 1,000 / 10,000 / 100,000
 *   npm run bench:scale -- --sizes 1000 --timers 1000
 *   npm run bench:scale -- --sizes 10000 --skip history,timers --profile-dir /tmp/prof
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { cpuBusy } from './lib/processes.ts';
import { historyPhase, scalePhase, timersPhase, type Restart, type ScaleResult, type ScaleSettings } from './lib/scale-phases.ts';

const TARGETS = { idleRssMiB: 250, restartMs: 2_000, timerLateMs: 1_000 };

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    'in-flight': { type: 'string', default: '200' },
    'idle-evict-ms': { type: 'string', default: '2000' },
    'idle-wait-ms': { type: 'string', default: '20000' },
    'history-events': { type: 'string', default: '10000' },
    timers: { type: 'string', default: '10000' },
    durability: { type: 'string', default: 'fsync' },
    /** Comma-separated phases to leave out: scale, history, timers. */
    skip: { type: 'string', default: '' },
    /** Write the servers' CPU profiles (.cpuprofile, for Chrome DevTools) into this directory. */
    'profile-dir': { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map((s) => Number(s.replaceAll('_', '')));
if (sizes.some((n) => !Number.isInteger(n) || n < 3)) throw new Error(`--sizes: integers of at least 3, comma-separated (got "${values.sizes}")`);
const skip = new Set(values.skip.split(',').filter(Boolean));
const settings: ScaleSettings = {
  durability: values.durability, inFlight: Number(values['in-flight']), idleEvictMs: Number(values['idle-evict-ms']),
  idleWaitMs: Number(values['idle-wait-ms']), profileDir: values['profile-dir'],
};
const cores = availableParallelism();
const busy = (share: number) => `${Math.round(share * 100)}%`;

// Other work on the machine skews every figure: say how busy it was before each measurement.
const busyBefore = await cpuBusy(1000);
console.log(`\nPerdure scale bench: perdure server (durability ${settings.durability}, --idle-evict-ms ${settings.idleEvictMs}) and this client over loopback, ${cores} cores, Node ${process.version}, ${new Date().toISOString()}.`);
console.log(`CPU busy with other work in the second before: ${busy(busyBefore)} of ${cores} cores${busyBefore > 0.1 ? ' (the figures below are pessimistic)' : ''}.\n`);

const scale: ScaleResult[] = [];
if (!skip.has('scale')) {
  for (const n of sizes) {
    scale.push(await scalePhase(n, settings));
    console.error(`  N = ${n.toLocaleString('en')} done`);
  }
  printScale(scale);
}

if (!skip.has('history')) {
  const history = await historyPhase(Number(values['history-events']), settings);
  console.log(`\nOne execution with a long history (counter machine, one signal at a time; CPU busy before: ${busy(history.busyBefore)}).`);
  console.log('Signal: median latency and server CPU over the (up to) 200 signals before the mark; describe and history: median of 5 calls at the mark.\n');
  console.table(history.marks.map((m) => ({
    'history events': m.events.toLocaleString('en'), 'signal p50 ms': m.signalMs.toFixed(2),
    'server CPU ms per signal': Number.isNaN(m.serverCpuPerSignalMs) ? '—' : m.serverCpuPerSignalMs.toFixed(2),
    'describe ms': m.describeMs.toFixed(2), 'history ms': m.historyMs.toFixed(1),
  })));
}

if (!skip.has('timers')) {
  const count = Number(values.timers);
  // Enough lead for every start to be acknowledged before the due time, at the start rate just
  // measured (or a cautious 300/s), so that lateness is the timer service's alone.
  const rate = scale.length > 0 ? Math.min(...scale.map((s) => s.startsPerSecond)) : 300;
  const leadMs = Math.round(2_000 + (count / rate) * 1_500);
  const t = await timersPhase(count, leadMs, settings);
  console.log(`\n${t.timers.toLocaleString('en')} durable timers due at the same instant (${(leadMs / 1000).toFixed(1)} s after the first start; CPU busy before: ${busy(t.busyBefore)}).\n`);
  console.table([
    { measure: 'due times recorded within', value: `${t.dueSpreadMs} ms`, target: '' },
    { measure: 'starts acknowledged after their due time', value: String(t.startedLate), target: '0' },
    { measure: 'fired late by, p50', value: `${t.lateP50Ms} ms`, target: '' },
    { measure: 'fired late by, max', value: `${t.lateMaxMs} ms`, target: `≤ ${TARGETS.timerLateMs} ms` },
    { measure: 'last one fired after the earliest due time', value: `${t.lastFiredAfterMs} ms`, target: '' },
  ]);
}

function printScale(results: ScaleResult[]): void {
  const row = (measure: string, cell: (r: ScaleResult) => string, target = '') => {
    const entry: Record<string, string> = { measure };
    for (const r of results) entry[`N = ${r.n.toLocaleString('en')}`] = cell(r);
    entry.target = target;
    return entry;
  };
  const restart = (r: Restart) => `${(r.totalMs / 1000).toFixed(2)} s (${(r.listeningMs / 1000).toFixed(2)})`;
  console.log(`N executions waiting on a signal with a one-hour timer, ${settings.inFlight} starts in flight through the client SDK.`);
  console.log(`Idle: ${settings.idleWaitMs / 1000} s after the last start. Restart: stop signal → new process → a signal to the oldest open execution completed (in brackets: until listening).\n`);
  console.table([
    row('CPU busy with other work before', (r) => busy(r.busyBefore)),
    row('start rate', (r) => `${Math.round(r.startsPerSecond)}/s`),
    row('server RSS while starting (peak)', (r) => `${Math.round(r.peakRssMiB)} MiB`),
    row('  V8 heap used after the last start', (r) => `${Math.round(r.heapAfterStartMiB)} MiB`),
    row('server RSS once idle (passivated)', (r) => `${Math.round(r.idleRssMiB)} MiB`, `< ${TARGETS.idleRssMiB} MiB at 100,000`),
    row('  V8 heap used once idle', (r) => `${Math.round(r.idleHeapMiB)} MiB`),
    row('disk per execution (du / N)', (r) => `${(r.bytesPerExecution / 1024).toFixed(2)} KiB`),
    row('server start on the empty store, until listening', (r) => `${(r.emptyStartMs / 1000).toFixed(2)} s`),
    row('restart after SIGKILL', (r) => restart(r.restartAfterKill), `< ${TARGETS.restartMs / 1000} s, flat in N`),
    row('restart after SIGTERM', (r) => restart(r.restartAfterTerm), `< ${TARGETS.restartMs / 1000} s, flat in N`),
    row('signal all N to completion', (r) => `${r.signalAllSeconds.toFixed(1)} s (${Math.round((r.n - 2) / r.signalAllSeconds)}/s)`),
  ]);
}
