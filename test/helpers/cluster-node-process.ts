import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { BIN, ROOT } from './cli.ts';

/**
 * One node of a Perdure cluster as a real `perdure server --store postgres://…` process (the
 * command a user types), for tests that SIGKILL or SIGTERM nodes. The node keeps its id and its
 * port across restarts, so a restarted node is the same member: it takes its own shards back.
 *
 * The server runs in the spawned process itself (`PERDURE_NO_SPAWN`): through the launcher a
 * SIGKILL would hit the launcher, and the server would close gracefully on its IPC channel.
 *
 * @example
 * const node = await startClusterNode({ storeUrl: schema.url, nodeId: 'node-a', port, leaseMs: 1500 });
 * await node.kill();
 * await node.start();
 */
export interface ClusterNodeOptions {
  /** The PostgreSQL URL (with `?schema=`), without `node_id` and `lease_ms`: they are added. */
  storeUrl: string;
  nodeId: string;
  port: number;
  leaseMs: number;
  /** Workflow modules, relative to the repository. */
  workflows: string[];
}

export interface ClusterNode {
  readonly nodeId: string;
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  /** Whether a process of this node is running now. */
  running(): boolean;
  /** Starts a process (after kill or stop); resolves once it listens. */
  start(): Promise<void>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful: its shards are handed over), and waits for the exit; the exit code. */
  stop(): Promise<number | null>;
  /** The last lines of the current (or last) process's stdout and stderr, for failure messages. */
  output(): string;
}

/** A free TCP port on 127.0.0.1 (chosen once, so a node restarts on the same one). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function startClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const separator = options.storeUrl.includes('?') ? '&' : '?';
  const storeUrl = `${options.storeUrl}${separator}node_id=${options.nodeId}&lease_ms=${options.leaseMs}`;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);
  let log = '';
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const self: ClusterNode = {
    nodeId: options.nodeId,
    port: options.port,
    url: `http://127.0.0.1:${options.port}`,
    wsUrl: `ws://127.0.0.1:${options.port}/ws`,
    running: alive,
    async start() {
      if (alive()) throw new Error(`node ${options.nodeId} is already running`);
      log = '';
      const proc = spawn(process.execPath, [BIN, 'server', '--port', String(options.port), '--workflows', ...options.workflows, '--log-format', 'json'], {
        cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PERDURE_STORE: storeUrl, PERDURE_NO_SPAWN: '1' },
      });
      child = proc;
      // Keep the tail only: a node logs for the whole test.
      const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
      proc.stderr!.on('data', keep);
      exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        let out: string | undefined = '';
        proc.stdout!.on('data', (chunk: Buffer) => {
          keep(chunk);
          if (out === undefined) return;
          out += chunk.toString();
          if (out.includes('"ws"')) { // the line that says where it listens
            out = undefined;
            resolve();
          }
        });
        void exited.then((code) => reject(new Error(`node ${options.nodeId} exited (${code}) before listening:\n${log}`)));
      });
    },
    async kill() {
      if (alive()) child!.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) child!.kill('SIGTERM');
      return exited;
    },
    output: () => log,
  };
  await self.start();
  return self;
}
