import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../fixtures/worker-main.ts', import.meta.url));

/** One line a worker process printed (see test/fixtures/worker-main.ts). */
export interface WorkerLine {
  event: string;
  workflowId?: string;
  activityId?: string;
  attempt?: number;
  outcome?: string;
  reconnected?: boolean;
  code?: string;
  /** When the test process read the line (Date.now()), to put it beside what the test did. */
  receivedAt: number;
  [key: string]: unknown;
}

export interface WorkerProcess {
  child: ChildProcess;
  readonly lines: WorkerLine[];
  /** Resolves with the first line (already printed or to come) that matches. */
  waitFor(match: (line: WorkerLine) => boolean, timeoutMs?: number): Promise<WorkerLine>;
  /** SIGKILL (or another signal), then waits for the exit unless the signal only pauses it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM: drain and exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  stderr(): string;
}

/**
 * Starts test/fixtures/worker-main.ts as a child process and waits until it is connected.
 *
 * @example
 * const worker = await startWorkerProcess({ address: server.wsUrl, taskQueue: 'orders', identity: 'w1' });
 * await worker.waitFor((l) => l.event === 'start');
 * await worker.kill();
 */
export async function startWorkerProcess(options: Record<string, unknown>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: WorkerLine[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let out = '';
  child.stderr!.on('data', (chunk) => (err += chunk));
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    const parts = out.split('\n');
    out = parts.pop()!;
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      lines.push({ ...(JSON.parse(part) as WorkerLine), receivedAt: Date.now() });
      for (const wake of waiters) wake();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    resolve(code);
    for (const wake of waiters) wake();
  }));
  const self: WorkerProcess = {
    child, lines,
    stderr: () => err,
    waitFor(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find(match);
          if (line) {
            done();
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`worker exited (${child.exitCode ?? child.signalCode}) before the awaited line; lines: ${JSON.stringify(lines)}\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`worker did not print the awaited line in ${timeoutMs} ms; lines: ${JSON.stringify(lines)}\n${err}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      if (signal !== 'SIGSTOP' && signal !== 'SIGCONT') await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  await self.waitFor((l) => l.event === 'connected' || l.event === 'failed');
  const failed = lines.find((l) => l.event === 'failed');
  if (failed) throw new Error(`worker failed to start: ${failed.code}: ${String(failed.message)}`);
  return self;
}
