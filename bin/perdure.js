#!/usr/bin/env node
// The `perdure` command: runs src/cli/main.ts under tsx, so it and the modules it loads
// (--workflows, --activities) need no build step.
//
// `perdure server` runs in a child process started with the V8 flags the server is tuned for
// (SERVER_NODE_FLAGS in bench/engine-bench.ts: a larger young generation halves GC time at its
// allocation rate); this process forwards SIGTERM/SIGINT to it and exits with its code. Every
// other command runs in this process.
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SERVER_NODE_FLAGS = ['--max-semi-space-size=32'];
const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const args = process.argv.slice(2);

if (args.find((a) => !a.startsWith('-')) === 'server' && !process.env.PERDURE_NO_SPAWN) {
  const tsx = import.meta.resolve('tsx');
  // The IPC channel is how the server notices this process died without forwarding a signal
  // (SIGKILL): it closes, and the server shuts down instead of running on as an orphan.
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '--import', tsx, main, ...args], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
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
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(main).href);
}
