/**
 * The measurements of the scale bench (bench/scale-bench.ts), each on a fresh `perdure server`
 * process and data directory, through the client SDK as users run them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../src/client/index.ts';
import type { HistoryEvent } from '../../src/common/history.ts';
import { BenchProcesses, cpuBusy, cpuSeconds, peakRss, percentile, rssMiB, stop, type ServerProcess } from './processes.ts';

export interface ScaleSettings {
  durability: string;
  inFlight: number;
  /** The server's --idle-evict-ms: short, so that passivation is seen within the bench. */
  idleEvictMs: number;
  /** How long to leave the server idle before reading its memory again. */
  idleWaitMs: number;
  /** Write the servers' CPU profiles here (only servers that exit by SIGTERM write one). */
  profileDir?: string;
}

export interface ScaleResult {
  n: number;
  busyBefore: number;
  startsPerSecond: number;
  peakRssMiB: number;
  heapAfterStartMiB: number;
  idleRssMiB: number;
  idleHeapMiB: number;
  bytesPerExecution: number;
  /** Spawn until listening on the empty store: the process boot that every restart also pays. */
  emptyStartMs: number;
  restartAfterKill: Restart;
  restartAfterTerm: Restart;
  signalAllSeconds: number;
}

/** From the signal that stopped the server until a signal to the oldest open execution completed. */
export interface Restart {
  totalMs: number;
  /** Of which: spawn until the new process listens (Node, tsx, store open, recovery). */
  listeningMs: number;
}

/** A server on a fresh data directory, deleted by `cleanup`. */
class BenchServer {
  private constructor(readonly processes: BenchProcesses, readonly dataDir: string, private readonly args: string[], private readonly profileDir?: string) {}

  static async create(settings: ScaleSettings, prefix: string): Promise<BenchServer> {
    const dataDir = await mkdtemp(join(tmpdir(), `perdure-scale-${prefix}-`));
    const args = ['--durability', settings.durability, '--workflows', 'bench/scale-workflows.ts', '--idle-evict-ms', String(settings.idleEvictMs)];
    return new BenchServer(new BenchProcesses(), dataDir, args, settings.profileDir);
  }

  start(): Promise<ServerProcess> {
    const nodeFlags = this.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${this.profileDir}`] : [];
    return this.processes.startServer({ dataDir: this.dataDir, args: this.args, nodeFlags });
  }

  async cleanup(): Promise<void> {
    this.processes.killAll();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** N executions waiting on a signal with a one-hour timer: start, idle, restart twice, signal all. */
export async function scalePhase(n: number, settings: ScaleSettings): Promise<ScaleResult> {
  const busyBefore = await cpuBusy(1000);
  const bench = await BenchServer.create(settings, String(n));
  try {
    let server = await bench.start();
    const emptyStartMs = server.listeningAfterMs;
    let client = await Client.connect({ address: server.url, identity: 'scale-bench' });
    const began = performance.now();
    await pool(n, settings.inFlight, (i) => client.start('scaleWait', { workflowId: waitId(i) }));
    const startsPerSecond = n / ((performance.now() - began) / 1000);
    progress(`N=${n}: started at ${Math.round(startsPerSecond)}/s`);
    const peakRssMiB = await peakRss(server.child.pid!);
    const heapAfterStartMiB = await heapUsedMiB(server.url);

    // Idle: every execution passivates after idleEvictMs; V8 gives memory back only after a
    // full GC, which its memory reducer starts some seconds into a quiet spell.
    await sleep(settings.idleWaitMs);
    const idleRssMiB = await rssMiB(server.child.pid!);
    const idleHeapMiB = await heapUsedMiB(server.url);
    const bytesPerExecution = diskBytes(bench.dataDir) / n;
    progress(`N=${n}: idle RSS ${Math.round(idleRssMiB)} MiB`);

    // SIGKILL first, while the store's write-ahead log still holds the latest starts.
    await client.close();
    const kill = await restart(bench, server, 'SIGKILL', waitId(0));
    server = kill.server;
    progress(`N=${n}: restarted after SIGKILL in ${Math.round(kill.restart.totalMs)} ms`);
    const term = await restart(bench, server, 'SIGTERM', waitId(1));
    server = term.server;
    progress(`N=${n}: restarted after SIGTERM in ${Math.round(term.restart.totalMs)} ms`);

    client = await Client.connect({ address: server.url, identity: 'scale-bench' });
    const signalled = performance.now();
    await pool(n - 2, settings.inFlight, async (i) => {
      const handle = client.getHandle(waitId(i + 2));
      await handle.signal({ type: 'GO' });
      await handle.result();
    });
    const signalAllSeconds = (performance.now() - signalled) / 1000;
    await client.close();
    await stop(server.child);
    return {
      n, busyBefore, emptyStartMs, startsPerSecond, peakRssMiB, heapAfterStartMiB, idleRssMiB, idleHeapMiB, bytesPerExecution,
      restartAfterKill: kill.restart, restartAfterTerm: term.restart, signalAllSeconds,
    };
  } finally {
    await bench.cleanup();
  }
}

async function restart(bench: BenchServer, server: ServerProcess, signal: NodeJS.Signals, workflowId: string): Promise<{ server: ServerProcess; restart: Restart }> {
  await stop(server.child, signal);
  const began = performance.now();
  const next = await bench.start();
  const client = await Client.connect({ address: next.url, identity: 'scale-bench' });
  const handle = client.getHandle(workflowId);
  await handle.signal({ type: 'GO' });
  await handle.result();
  const totalMs = performance.now() - began;
  await client.close();
  return { server: next, restart: { totalMs, listeningMs: next.listeningAfterMs } };
}

const SIGNAL_WINDOW = 200;

export interface HistoryResult {
  busyBefore: number;
  /** By history length: median signal, describe and history latencies (ms). */
  marks: { events: number; signalMs: number; serverCpuPerSignalMs: number; describeMs: number; historyMs: number }[];
}

/** One counter execution signalled until its history is `events` long, timed at 10, 1,000, … */
export async function historyPhase(events: number, settings: ScaleSettings): Promise<HistoryResult> {
  const busyBefore = await cpuBusy(1000);
  const bench = await BenchServer.create(settings, 'history');
  try {
    const server = await bench.start();
    const client = await Client.connect({ address: server.url, identity: 'scale-bench' });
    // rollAt past the end: the counter stays one run (it never continues as new).
    const input = { rollAt: events * 10 };
    // A warm-up execution first: the early marks must not pay for V8 compiling the hot paths.
    const warm = await client.start('counter', { workflowId: 'warm-up', input });
    for (let i = 0; i < 300; i++) await warm.signal({ type: 'ADD', amount: 1 });

    const handle = await client.start('counter', { workflowId: 'long', input });
    const marks = [10, 1_000, 10_000, 100_000].filter((m) => m <= events);
    if (!marks.includes(events)) marks.push(events);
    const result: HistoryResult['marks'] = [];
    let length = 1; // WorkflowStarted
    for (const mark of marks) {
      // The signals that take the history to the mark (up to 200): their median latency, and the
      // server's CPU time per signal, which other work on the machine does not inflate as much.
      const windowFrom = Math.max(length, mark - SIGNAL_WINDOW);
      const window: number[] = [];
      let cpuAtWindow = NaN;
      while (length < mark) {
        if (length === windowFrom) cpuAtWindow = await cpuSeconds(server.child.pid!);
        const t0 = performance.now();
        await handle.signal({ type: 'ADD', amount: 1 });
        length++;
        if (length > windowFrom) window.push(performance.now() - t0);
      }
      // Below 100 signals the 10 ms ticks of /proc make the CPU figure meaningless.
      const serverCpuPerSignalMs = window.length >= 100 ? ((await cpuSeconds(server.child.pid!)) - cpuAtWindow) * 1000 / window.length : NaN;
      const describe = await timed(5, () => handle.describe());
      const history = await timed(5, async () => {
        const got = await handle.history();
        if (got.length !== length) throw new Error(`history has ${got.length} events, expected ${length}`);
      });
      result.push({ events: mark, signalMs: percentile(window, 50), serverCpuPerSignalMs, describeMs: describe, historyMs: history });
    }
    await client.close();
    await stop(server.child);
    return { busyBefore, marks: result };
  } finally {
    await bench.cleanup();
  }
}

export interface TimersResult {
  busyBefore: number;
  timers: number;
  /** Spread of the due times the server recorded (ms): all fall in this window. */
  dueSpreadMs: number;
  /** Timers whose start was acknowledged only after their due time (their lateness is not the timer service's). */
  startedLate: number;
  /** Fire time minus due time, from the TimerFired events (ms). */
  lateP50Ms: number;
  lateMaxMs: number;
  /** The last timer fired this long after the earliest due time (ms). */
  lastFiredAfterMs: number;
}

/** `count` durable timers due at the same instant, `leadMs` after the bench begins starting them. */
export async function timersPhase(count: number, leadMs: number, settings: ScaleSettings): Promise<TimersResult> {
  const busyBefore = await cpuBusy(1000);
  const bench = await BenchServer.create(settings, 'timers');
  try {
    const server = await bench.start();
    const client = await Client.connect({ address: server.url, identity: 'scale-bench' });
    const dueAt = Date.now() + leadMs;
    let startedLate = 0;
    await pool(count, settings.inFlight, async (i) => {
      // The machine's first step sees no time (its start event carries none): the delay is
      // counted here, so the server's due times spread by the wait of a start in the queue.
      await client.start('timer', { workflowId: timerId(i), input: { ms: Math.max(0, dueAt - Date.now()) } });
      if (Date.now() > dueAt) startedLate++;
    });
    // Polled, not awaited per execution: 200 result calls in flight would add a store read per
    // completion to the server while it fires the timers.
    await sleep(Math.max(0, dueAt - Date.now()));
    while ((await client.count({ type: 'timer', status: 'running' })).count > 0) await sleep(250);
    const fired: { dueAt: number; at: number }[] = [];
    await pool(count, settings.inFlight, async (i) => {
      const event = (await client.getHandle(timerId(i)).history()).find((e): e is Extract<HistoryEvent, { kind: 'TimerFired' }> => e.kind === 'TimerFired');
      if (!event) throw new Error(`${timerId(i)} completed without a TimerFired event`);
      fired.push({ dueAt: event.dueAt, at: event.at });
    });
    await client.close();
    await stop(server.child);
    const dues = fired.map((f) => f.dueAt);
    const late = fired.map((f) => f.at - f.dueAt);
    const earliestDue = Math.min(...dues);
    return {
      busyBefore, timers: count, dueSpreadMs: Math.max(...dues) - earliestDue, startedLate,
      lateP50Ms: percentile(late, 50), lateMaxMs: Math.max(...late), lastFiredAfterMs: Math.max(...fired.map((f) => f.at)) - earliestDue,
    };
  } finally {
    await bench.cleanup();
  }
}

/** Runs `task(0 … count-1)` with at most `width` in flight. */
async function pool(count: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

/** The median time of `times` calls, one at a time. */
async function timed(times: number, call: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  return percentile(ms, 50);
}

/** The server's V8 heap in use, from its Prometheus metrics. */
async function heapUsedMiB(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = /^perdure_process_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1];
  return value === undefined ? NaN : Number(value) / 2 ** 20;
}

/** What the directory takes on disk (du: allocated blocks, not apparent sizes). */
function diskBytes(dir: string): number {
  try {
    return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) * 1024;
  } catch {
    return NaN;
  }
}

/** Where a long run is, on stderr (the tables go to stdout). */
function progress(line: string): void {
  console.error(`  ${new Date().toISOString().slice(11, 19)} ${line}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const waitId = (i: number) => `wait-${i}`;
const timerId = (i: number) => `timer-${i}`;
