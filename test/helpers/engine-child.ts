import { spawn, type ChildProcess } from 'node:child_process';

/** A script (an engine under test) run as a child process, for tests that SIGKILL it. */
export interface EngineChild {
  child: ChildProcess;
  /** Resolves with everything the child printed once it has exited. */
  exited: Promise<string>;
  /**
   * Resolves true once the child printed `text`; false when `timeoutMs` passed first (default:
   * no limit). Rejects if the child exits without printing it.
   */
  waitFor(text: string, timeoutMs?: number): Promise<boolean>;
  /** Sends `signal` and resolves with everything the child printed. */
  stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<string>;
}

/** Runs `script` with tsx and `args`, collecting what it prints. */
export function startEngineChild(script: string, args: readonly string[]): EngineChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<string>((resolve) => child.on('exit', () => resolve(out + err)));
  const waitFor = (text: string, timeoutMs?: number) => new Promise<boolean>((resolve, reject) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => resolve(false), timeoutMs);
    const check = () => out.includes(text) && (clearTimeout(timer), resolve(true));
    listeners.add(check);
    child.on('exit', (code, signal) => !out.includes(text) && reject(new Error(`child exited (${code ?? signal}) before ${text}:\n${out}${err}`)));
    check();
  });
  return {
    child, exited, waitFor,
    stop: (signal) => {
      child.kill(signal);
      return exited;
    },
  };
}
