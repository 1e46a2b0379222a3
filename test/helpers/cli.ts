import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin/perdure-source.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `perdure` command (`bin/perdure-source.js`: the sources) with `args` to completion, in the repository
 * (or in `options.cwd`, to see it as a user's own project does).
 */
export function perdure(args: string[], env: Record<string, string> = {}, options: { cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `perdure server` child process (see startCliServer). */
export interface CliServer {
  child: ChildProcess;
  url: string;
  stdout(): string;
  exited: Promise<number | null>;
}

/** `perdure server --port 0 … ...args`; resolves once it logged where it listens. */
export async function startCliServer(dataDir: string, args: string[] = []): Promise<CliServer> {
  const child = spawn(process.execPath, [BIN, 'server', '--port', '0', '--data', dataDir, '--workflows', 'machines/index.ts', '--durability', 'os', ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"url"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((code) => reject(new Error(`perdure server exited (${code}) before listening:\n${err}`)));
  });
  return { child, url, stdout: () => out, exited };
}
