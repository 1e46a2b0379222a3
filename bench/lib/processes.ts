/**
 * What the process benchmarks share: `perdure server` and `perdure worker` as child processes
 * run from the sources, and figures about processes read from /proc (Linux; NaN elsewhere).
 *
 * @example
 * const processes = new BenchProcesses();
 * try {
 *   const server = await processes.startServer({ dataDir, args: ['--workflows', 'machines/timer.ts'] });
 *   console.log(await rssMiB(server.child.pid!));
 *   await stop(server.child);
 * } finally {
 *   processes.killAll();
 * }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The young generation size Perdure's server runs with (the `perdure` command sets it): halves GC time at this allocation rate. */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=32'];
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface ServerSpawnOptions {
  dataDir: string;
  /** More `perdure server` arguments: `--workflows`, `--durability`, … */
  args: string[];
  /** Node flags beside SERVER_NODE_FLAGS, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
}

export interface ServerProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` as the server logged it. */
  url: string;
  /** ms from spawn until the server logged that it listens. */
  listeningAfterMs: number;
}

/** The child processes of one bench run, so that a failing bench leaves none behind. */
export class BenchProcesses {
  private readonly children: ChildProcess[] = [];

  /** `node [flags] --import tsx src/cli/main.ts …args` in the repository root. */
  spawnNode(nodeFlags: string[], args: string[]): ChildProcess {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.resume();
    this.children.push(child);
    return child;
  }

  /** `perdure server` on a free port; resolves once it printed where it listens. */
  async startServer(options: ServerSpawnOptions): Promise<ServerProcess> {
    const began = performance.now();
    const child = this.spawnNode([...SERVER_NODE_FLAGS, ...(options.nodeFlags ?? [])], [
      'server', '--port', '0', '--data', options.dataDir, '--log-format', 'json', ...options.args,
    ]);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        for (const line of out.split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            const entry = JSON.parse(line) as { url?: string };
            if (entry.url) {
              child.stdout!.off('data', onData);
              child.stdout!.resume();
              return resolve(entry.url);
            }
          } catch {
            // a partial line: wait for the rest
          }
        }
      };
      child.stdout!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${stderr}`)));
    });
    return { child, url, listeningAfterMs: performance.now() - began };
  }

  /** SIGKILLs every child still running. */
  killAll(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Sends `signal` (default SIGTERM: a graceful close) and waits for the process to exit. */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** The share of all cores' time spent not idle over the next `ms` (Linux /proc/stat); NaN elsewhere. */
export async function cpuBusy(ms: number): Promise<number> {
  const sample = async () => {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    return { total: ticks.reduce((a, b) => a + b, 0), idle: ticks[3]! + (ticks[4] ?? 0) };
  };
  try {
    const a = await sample();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const b = await sample();
    return 1 - (b.idle - a.idle) / (b.total - a.total);
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process used so far, from /proc (Linux); NaN elsewhere. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are 14 and 15.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The peak resident set of a process since it started (VmHWM), in MiB. */
export function peakRss(pid: number): Promise<number> {
  return statusMiB(pid, 'VmHWM');
}

/** The resident set of a process now (VmRSS), in MiB. */
export function rssMiB(pid: number): Promise<number> {
  return statusMiB(pid, 'VmRSS');
}

async function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
    return kib / 1024;
  } catch {
    return NaN;
  }
}

export function percentile(list: readonly number[], p: number): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
