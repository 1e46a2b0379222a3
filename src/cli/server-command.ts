import { resolve } from 'node:path';
import { Command, InvalidArgumentError as UsageArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
// From common (not create-server.ts) so that `perdure --help` need not load the server.
import { DEFAULT_PORT } from '../common/address.ts';
import type { TokenGrant } from '../hub/auth.ts';
import type { PerdureServer } from '../server/create-server.ts';
import type { Durability } from '../store/store.ts';
import { CliError } from './cli-error.ts';
import { withWorkflowsOption, workflowModules } from './workflows-option.ts';

interface ServerCommandOptions {
  workflows?: string[];
  data: string;
  store?: string;
  port: number;
  host: string;
  authToken?: string;
  tokenFile?: string;
  clusterToken?: string;
  advertise?: string;
  insecureListenAnywhere?: boolean;
  durability?: Durability;
  maxFrameBytes?: number;
  maxPayloadBytes?: number;
  pingIntervalMs?: number;
  helloTimeoutMs?: number;
  maxSendBufferBytes?: number;
  headersTimeoutMs?: number;
  idleEvictMs?: number;
  logLevel: string;
  logFormat: 'auto' | 'pretty' | 'json';
}

/** How long a graceful close may take before the process gives up and exits 1. */
const CLOSE_DEADLINE_MS = 15_000;

/**
 * `perdure server`: the engine on its embedded store, the WebSocket hub and the HTTP API on
 * one port, until SIGTERM or SIGINT (then a graceful close and exit 0).
 *
 * @example
 * perdure server --workflows machines/index.ts --data ./.perdure --port 7233
 * perdure server --workflows machines/index.ts --store postgres://perdure@db.internal/perdure
 */
export function serverCommand(): Command {
  return withWorkflowsOption(new Command('server'), 'module(s) whose workflow(...) exports are registered (TypeScript loads as is)')
    .description('run the Perdure server: engine, embedded store, WebSocket hub and HTTP API on one port')
    .option('-d, --data <dir>', 'data directory of the embedded LevelDB store', './.perdure')
    .addOption(new Option('--store <url>', 'a PostgreSQL database instead of the embedded store: postgres://user@host/db (see docs/cluster.md)').env('PERDURE_STORE'))
    .option('-p, --port <port>', 'port for HTTP and WebSocket (0 picks a free one)', parsePort, DEFAULT_PORT)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .addOption(new Option('--auth-token <token>', 'require this bearer token (admin, every namespace)').env('PERDURE_AUTH_TOKEN'))
    .addOption(new Option('--advertise <host:port>', 'where the other nodes of a cluster and workers reach this node (default: the address it listens on)').env('PERDURE_ADVERTISE'))
    .addOption(new Option('--cluster-token <token>', 'the token this node presents when it forwards a call to another node of a cluster (default: --auth-token)').env('PERDURE_CLUSTER_TOKEN'))
    .option('--token-file <file>', 'tokens scoped to namespaces and roles, one "<token> <namespace|*> <worker|client|admin>" a line')
    .option('--insecure-listen-anywhere', 'allow a non-loopback --host without tokens')
    .addOption(new Option('--durability <mode>', 'fsync: every acknowledged write is on disk; os: left to the OS (faster, may lose the last writes on power loss)').choices(['fsync', 'os']))
    .option('--max-frame-bytes <bytes>', 'largest WebSocket frame / HTTP body accepted (default 4 MiB)', parsePositiveInt)
    .option('--max-payload-bytes <bytes>', 'largest workflow input, event or activity output, as JSON (default 2 MiB)', parsePositiveInt)
    .option('--ping-interval-ms <ms>', 'WebSocket ping interval; a peer silent for two intervals is dropped (default 5000)', parsePositiveInt)
    .option('--hello-timeout-ms <ms>', 'close a WebSocket connection that sends no hello within this time (default 10000)', parsePositiveInt)
    .option('--max-send-buffer-bytes <bytes>', 'drop a WebSocket peer that leaves more than this unread (default 16 MiB)', parsePositiveInt)
    .option('--headers-timeout-ms <ms>', 'close an HTTP connection that takes longer to send its request headers (default 10000)', parsePositiveInt)
    .option('--idle-evict-ms <ms>', 'open executions idle this long leave memory, read back from the store on their next event (default 60000)', parsePositiveInt)
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').env('PERDURE_LOG_LEVEL'))
    .addOption(new Option('--log-format <format>', 'auto: pretty in a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'))
    .addHelpText('after', '\nSIGTERM or SIGINT closes gracefully (commits in flight finish, the store closes) and exits 0.')
    .action(runServer);
}

async function runServer(o: ServerCommandOptions): Promise<void> {
  // Loaded here, not at the top: the other commands start faster without the server's modules.
  const [{ createServer }, { loadWorkflows }, { Authenticator }] = await Promise.all([
    import('../server/create-server.ts'), import('../server/load-workflows.ts'), import('../hub/auth.ts'),
  ]);
  const logger = await makeLogger(o.logLevel, o.logFormat === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : o.logFormat);
  const workflows = await loadWorkflows(workflowModules(o.workflows, 'server'));
  const tokens: TokenGrant[] = [];
  if (o.authToken) tokens.push({ token: o.authToken, namespace: '*', role: 'admin' });
  if (o.tokenFile) tokens.push(...(await Authenticator.fromFile(o.tokenFile)));
  const dataDir = resolve(o.data);

  let server: PerdureServer;
  try {
    server = await createServer({
      workflows, dataDir, store: o.store, port: o.port, host: o.host, tokens, insecureListenAnywhere: o.insecureListenAnywhere,
      durability: o.durability, maxFrameBytes: o.maxFrameBytes, maxPayloadBytes: o.maxPayloadBytes, logger,
      pingIntervalMs: o.pingIntervalMs, helloTimeoutMs: o.helloTimeoutMs, maxSendBufferBytes: o.maxSendBufferBytes, headersTimeoutMs: o.headersTimeoutMs,
      idleEvictMs: o.idleEvictMs, clusterToken: o.clusterToken ?? o.authToken, advertise: o.advertise,
      // One line per HTTP request drowns the rest at info; --log-level debug shows them.
      logRequests: o.logLevel === 'debug' || o.logLevel === 'trace',
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      throw new CliError('ADDRESS_IN_USE', `port ${o.port} on ${o.host} is in use by another process. Stop it, or pass --port (0 picks a free one).`);
    }
    if (code === 'EACCES') throw new CliError('ADDRESS_IN_USE', `not allowed to listen on ${o.host}:${o.port}. Pick a port above 1023 with --port.`);
    throw error;
  }

  await new Promise<void>((done) => {
    let closing = false;
    const stop = (signal: string) => {
      // A terminal's Ctrl-C reaches both this process and the `perdure` launcher, which
      // forwards it: the second signal of one Ctrl-C must not cut the graceful close short.
      if (closing) return;
      closing = true;
      logger.info({ signal }, `${signal}: closing (finishing commits in flight, then closing the store)`);
      setTimeout(() => {
        logger.error(`graceful close did not finish within ${CLOSE_DEADLINE_MS / 1000} s; exiting`);
        process.exit(1);
      }, CLOSE_DEADLINE_MS).unref();
      server.close().then(done, (error: unknown) => {
        logger.error({ err: error }, 'close failed');
        process.exitCode = 1;
        done();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', stop);
    // Started by bin/perdure.js: its IPC channel closes when it dies, even by SIGKILL.
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', () => stop('the perdure launcher exited'));
    }
  });
}

/** Pretty lines in a terminal, JSON lines otherwise (a log shipper, a test, a pipe). */
async function makeLogger(level: string, format: 'pretty' | 'json'): Promise<Logger> {
  const { pino } = await import('pino');
  if (format === 'json') return pino({ level });
  const { default: pretty } = await import('pino-pretty');
  // pino-pretty as a synchronous stream (no worker thread): the lines appear in order with
  // the rest of the terminal output, and nothing is lost at exit.
  return pino({ level }, pretty({
    colorize: process.stdout.isTTY || Boolean(process.env.FORCE_COLOR), translateTime: 'SYS:HH:MM:ss.l', sync: true,
    // The listening line says in words what these fields say; JSON logs keep them.
    ignore: 'pid,hostname,component,url,ws,dataDir,workflowTypes,auth',
    messageFormat: '{if component}[{component}] {end}{msg}',
  }));
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageArgumentError('a port is an integer from 0 to 65535.');
  return port;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageArgumentError('must be a positive integer.');
  return n;
}
