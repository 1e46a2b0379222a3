import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../fixtures/server-main.ts', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  wsUrl: string;
  port: number;
  dataDir: string;
  /** Everything the child wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** SIGKILL, wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM, wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Starts a new server process on the same data directory and port (after kill or stop). */
  restart(limits?: ProcessLimits): Promise<ServerProcess>;
  /** Stops the process if running and deletes the data directory. */
  cleanup(): Promise<void>;
}

/** Resource limits of the server process. */
export interface ProcessLimits {
  /** `ulimit -f`: the largest file the process may write, in the shell's blocks (512 or 1024 bytes). */
  fileSizeBlocks?: number;
}

/**
 * Starts the example server (machines/*) as a real child process on a free port, with LevelDB in
 * a temp directory.
 *
 * @example
 * const server = await startServerProcess();
 * try { … fetch(`${server.url}/healthz`) … } finally { await server.cleanup(); }
 */
export async function startServerProcess(
  options: Record<string, unknown> = {}, reuse?: { dataDir: string; port: number }, limits: ProcessLimits = {},
): Promise<ServerProcess> {
  const dataDir = reuse?.dataDir ?? (await mkdtemp(join(tmpdir(), 'perdure-server-')));
  const args = ['--import', 'tsx', MAIN, dataDir, String(reuse?.port ?? 0), JSON.stringify(options)];
  const child = limits.fileSizeBlocks === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    // The shell sets the limit and execs node. Node ignores SIGXFSZ, so a write past the limit
    // fails with EFBIG, as a write to a full disk fails with ENOSPC.
    : spawn('/bin/sh', ['-c', `ulimit -f ${limits.fileSizeBlocks} && exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const info = await new Promise<{ url: string; wsUrl: string; port: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${err}`)));
  });
  const self: ServerProcess = {
    child, dataDir, ...info,
    stderr: () => err,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    restart: (restartLimits = limits) => startServerProcess(options, { dataDir, port: info.port }, restartLimits),
    async cleanup() {
      await self.kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}
