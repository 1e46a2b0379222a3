// Runs the `perdure` command's main module: the compiled one (bin/perdure.js, the installed
// package) or the TypeScript sources under tsx (bin/perdure-source.js, a git checkout).
//
// `perdure server` runs in a child process started with the V8 flags the server is tuned for
// (a larger young generation halves GC time at its allocation rate: bench/engine-bench.ts);
// this process forwards SIGTERM/SIGINT/SIGHUP to it and exits with its code. Every other
// command runs in this process.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SERVER_NODE_FLAGS = ['--max-semi-space-size=32'];

/**
 * @param {{ main: URL, typescript?: boolean, missing?: string }} options
 *   `main`: the CLI's entry module; `typescript`: load it under tsx; `missing`: what to say when
 *   `main` is not there.
 */
export async function launch({ main, typescript = false, missing }) {
  const mainPath = fileURLToPath(main);
  if (!existsSync(mainPath)) {
    console.error(`perdure: ${mainPath} is missing. ${missing ?? ''}`.trim());
    process.exit(1);
  }
  const args = process.argv.slice(2);
  if (args.find((a) => !a.startsWith('-')) === 'server' && !process.env.PERDURE_NO_SPAWN) {
    const loader = typescript ? ['--import', import.meta.resolve('tsx')] : [];
    // The IPC channel is how the server notices this process died without forwarding a signal
    // (SIGKILL): it closes, and the server shuts down instead of running on as an orphan.
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...loader, mainPath, ...args], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
      process.on(signal, () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      });
    }
    child.on('error', (error) => {
      console.error(`perdure: could not start the server process: ${error.message}`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => {
      if (signal) process.kill(process.pid, signal);
      else process.exit(code ?? 1);
    });
    return;
  }
  if (typescript) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  await import(main.href);
}
