/**
 * `npm run dev`: the whole platform on this machine, as a user runs it.
 *
 *   1. `perdure server` on the embedded store in ./.perdure, port 7233 (or the next free one);
 *   2. `perdure worker` for the example activities (task queues `orders` and `flaky`);
 *   3. a few example executions, started with the client SDK over WebSocket, whose progress is
 *      printed as it happens; the approval waits for you to signal it from another terminal.
 *
 * It runs until Ctrl-C, which stops the worker and the server cleanly. Stop it any way you like
 * (even kill -9 the server) and run it again: open executions carry on where they were.
 *
 *   PERDURE_DATA=/tmp/x PERDURE_PORT=8000 npm run dev
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type WorkflowHandle } from '../src/client/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/perdure-source.js', import.meta.url));
const DATA = resolve(process.env.PERDURE_DATA ?? './.perdure');
const PREFERRED_PORT = Number(process.env.PERDURE_PORT ?? 7233);
const color = process.stdout.isTTY;
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[22m` : s);
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);

let client: Client | undefined;
const children: { name: string; child: ChildProcess; exited: Promise<number | null> }[] = [];
let stopping = false;

process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

const port = await freePort(PREFERRED_PORT);
const address = `http://127.0.0.1:${port}`;
if (port !== PREFERRED_PORT) console.log(dim(`port ${PREFERRED_PORT} is busy: using ${port}`));

const server = launch('server', ['server', '--workflows', 'machines/index.ts', '--data', DATA, '--port', String(port), '--log-format', 'pretty']);
await waitUntilHealthy(server);
launch('worker', ['worker', '--activities', 'machines/activities.ts', '--task-queue', 'orders', '--task-queue', 'flaky', '--address', address]);

client = await Client.connect({ address, identity: 'npm run dev' });
const stamp = Date.now().toString(36);
const handles: WorkflowHandle[] = [
  await client.start('order', { workflowId: `order-${stamp}`, input: { orderId: `order-${stamp}`, amount: 42, items: ['book', 'lamp'] } }),
  await client.start('order', { workflowId: `order-fails-${stamp}`, input: { orderId: `order-fails-${stamp}`, amount: 7, items: ['vase'], failAt: 'ship' } }),
  await client.start('flaky', { workflowId: `flaky-${stamp}`, input: { key: 'weather', failTimes: 3 } }),
  await client.start('approval', { workflowId: `approval-${stamp}`, input: { request: 'a new laptop', timeoutMs: 10 * 60_000 } }),
];

const cli = `npx perdure`;
const at = port === 7233 ? '' : ` --address ${address}`;
console.log(`
${bold('Perdure is running.')}
  web UI      ${address}/
  server      ${address}   (HTTP API, WebSocket at ${address.replace('http', 'ws')}/ws)
  data        ${DATA}
  health      ${address}/healthz      metrics  ${address}/metrics
  API         ${address}/api/v1/namespaces/default/workflows

Started: an order that ships, an order whose shipment fails (compensated), a flaky call retried
until it answers, and an approval that waits ${bold('for you')}. Try, in another terminal:

  ${cli} workflow list${at}
  ${cli} workflow signal approval-${stamp} APPROVE --data '{"approver":"you"}'${at}
  ${cli} workflow describe order-${stamp}${at}
  ${cli} workflow history order-fails-${stamp}${at}
  ${cli} workflow start approval --input '{"request":"coffee","timeoutMs":60000}'${at}
  ${cli} machine export order${at}          ${dim('(paste into Stately Studio)')}
  ${cli} replay order-${stamp}${at}
  curl -s ${address}/api/v1/namespaces/default/workflows/approval-${stamp}

Ctrl-C stops everything; run it again and open executions carry on.
`);

await watch(handles);

/**
 * Prints each execution's state as it changes, until Ctrl-C: the ones started here, any other
 * running one (left open by an earlier run, or started from the CLI in another terminal).
 */
async function watch(list: WorkflowHandle[]): Promise<void> {
  const last = new Map<string, string>();
  const open = new Set(list);
  const watched = new Set(list.map((h) => h.workflowId));
  let lastListed = 0;
  while (!stopping) {
    if (Date.now() - lastListed > 1000) {
      lastListed = Date.now();
      // Executions left open by an earlier run carry on too: they show up here.
      const page = await client!.list({ status: 'running', limit: 20 }).catch(() => ({ executions: [] }));
      for (const e of page.executions) {
        if (!watched.has(e.workflowId) && open.size < 50) {
          watched.add(e.workflowId);
          open.add(client!.getHandle(e.workflowId));
        }
      }
    }
    for (const handle of open) {
      try {
        const d = await handle.describe();
        const pending = d.pendingActivities.map((a) => `${a.activityType}${a.attempt > 1 ? ` attempt ${a.attempt}` : ''}`).join(', ');
        const line = d.status === 'running'
          ? `${JSON.stringify(d.state.value)}${pending ? ` ${dim(`(${pending})`)}` : ''}`
          : `${bold(d.status)} ${JSON.stringify(d.output ?? d.failure ?? null)}`;
        if (last.get(d.workflowId) !== line) {
          last.set(d.workflowId, line);
          console.log(`${'watch'.padEnd(6)} │ ${d.workflowId.padEnd(26)} ${line}`);
        }
        if (d.status !== 'running') open.delete(handle);
      } catch (error) {
        if (!stopping) console.log(`${'watch'.padEnd(6)} │ ${handle.workflowId}: ${(error as Error).message}`);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs `perdure <args>`, its output prefixed with its name. */
function launch(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(color ? { FORCE_COLOR: '1' } : {}) },
  });
  const prefix = `${name.padEnd(6)} │ `;
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
  }
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  void exited.then((code) => {
    if (!stopping) {
      console.error(`\n${name} exited (${code}); stopping.`);
      void stop('SIGTERM', 1);
    }
  });
  children.push({ name, child, exited });
  return child;
}

async function waitUntilHealthy(child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${address}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!stopping) {
    console.error(`the server did not come up on ${address}; see its output above.`);
    await stop('SIGTERM', 1);
  }
}

/**
 * Stops the worker, then the server, each with SIGTERM (a terminal's Ctrl-C reached them too;
 * they ignore the repeat), and exits once both are gone.
 */
async function stop(signal: NodeJS.Signals, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(dim(`\n${signal}: stopping the worker and the server…`));
  await client?.close().catch(() => {});
  for (const { child, exited } of [...children].reverse()) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
  console.log(dim('stopped.'));
  process.exit(code);
}

/** `preferred` if nothing listens there, else the next free port above it. */
async function freePort(preferred: number): Promise<number> {
  for (let p = preferred; p < preferred + 50; p++) {
    const free = await new Promise<boolean>((done) => {
      const probe = createNetServer();
      probe.once('error', () => done(false));
      probe.listen({ port: p, host: '127.0.0.1', exclusive: true }, () => probe.close(() => done(true)));
    });
    if (free) return p;
  }
  throw new Error(`no free port from ${preferred} to ${preferred + 49}`);
}
