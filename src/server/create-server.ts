import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { DEFAULT_PORT } from '../common/address.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { WIRE_LIMITS } from '../common/wire.ts';
import type { WorkflowDefinition } from '../definition/workflow.ts';
import { Engine } from '../engine/engine.ts';
import type { Durability } from '../store/store.ts';
import type { Clock } from '../common/clock.ts';
import type { HistoryLimits } from '../engine/core/history-limits.ts';
import type { StepLimits } from '../engine/core/step-budget.ts';
import type { RetentionOptions } from '../engine/runtime/retention-sweeper.ts';
import { ScheduleService } from '../schedules/schedule-service.ts';
import { logShardChanges } from './shard-log.ts';
import { Authenticator, type TokenGrant } from '../hub/auth.ts';
import { ClientOps } from '../hub/client-ops.ts';
import { clientPeer } from '../hub/client-peer.ts';
import { registerHttpApi } from '../hub/http-api.ts';
import { Metrics } from '../hub/metrics.ts';
import { workerPeer } from '../hub/worker-peer.ts';
import { WS_PATH, WsHub } from '../hub/ws-hub.ts';
import { registerUi } from '../hub/web-ui/serve.ts';
import { serverStore, type ServerStoreOption } from './server-store.ts';
import { ClusterService } from '../cluster/cluster-service.ts';
import { NodePeers, NODE_IDENTITY_PREFIX } from '../cluster/node-peers.ts';
import { OtherNodeWork } from '../cluster/other-node-work.ts';
import { ClusterSchedules } from '../cluster/cluster-schedules.ts';
import { routedScheduleEngine } from '../cluster/routed-schedule-engine.ts';
import { observedPeers } from '../cluster/observed-peers.ts';
import { ClusterMembership } from '../cluster/cluster-membership.ts';
import { TaskReportForwarder } from '../cluster/task-report-forwarder.ts';

export const SERVER_VERSION = '0.1.0';
export { DEFAULT_PORT };

export interface ServerOptions {
  workflows: readonly WorkflowDefinition[];
  /** The embedded store's directory. Default './.perdure'. */
  dataDir?: string;
  durability?: Durability;
  /** Default 127.0.0.1. Anything but loopback needs tokens, or `insecureListenAnywhere`. */
  host?: string;
  /** Default 7233; 0 picks a free port. */
  port?: number;
  /** Bearer tokens; with none, the server is open and stays on loopback. */
  tokens?: readonly TokenGrant[];
  insecureListenAnywhere?: boolean;
  /** Largest WebSocket frame accepted. Default 4 MiB. */
  maxFrameBytes?: number;
  /** WebSocket ping interval; a peer silent for two intervals is dropped. Default 5 s (a dead worker is found within 10 s). */
  pingIntervalMs?: number;
  /** How long a new WebSocket connection may take to send hello. Default 10 s. */
  helloTimeoutMs?: number;
  /** Unread bytes held for one WebSocket peer before it is dropped (SEND_BUFFER_FULL). Default 16 MiB. */
  maxSendBufferBytes?: number;
  /** How long an HTTP request (or WebSocket upgrade) may take to send its headers; slower sockets get 408 and are closed. Default 10 s. */
  headersTimeoutMs?: number;
  workerLostGraceMs?: number;
  /** A pino logger, or false for none. Default: JSON to stdout (pretty in a terminal via the CLI). */
  logger?: Logger | false;
  /** Log every HTTP request (fastify's "incoming request" / "request completed" at info). Default true. */
  logRequests?: boolean;
  /** When to warn of a long history and when to end a run whose history grew too long (docs/continue-as-new.md). */
  historyLimits?: Partial<HistoryLimits>;
  /** Largest payload (input, event, activity output) accepted, as JSON bytes. Default 2 MiB. */
  maxPayloadBytes?: number;
  /** Limits of one machine step, and block-or-fail for a step past them (docs/workflow-isolation.md). */
  stepLimits?: Partial<StepLimits>;
  /**
   * Open executions idle this long leave memory (passivation) and are read back from the store
   * on their next event. Default 60 s. Shorter holds fewer in memory, at a store read per event
   * for executions signalled less often than that.
   */
  idleEvictMs?: number;
  /** The engine's clock: a TestClock from `perdure/testing` runs the server on virtual time. Default: the system clock. */
  clock?: Clock;
  /**
   * A store to use instead of the embedded LevelDB store in `dataDir`: a `Store`, or the URL of
   * a PostgreSQL database (`postgres://user@host/db`, see docs/cluster.md for its parameters).
   */
  store?: ServerStoreOption;
  /** The retention sweep (interval, batch size); its reports are logged. See docs/namespaces.md. */
  retention?: RetentionOptions;
  /**
   * The token this node presents to the other nodes of a cluster when it forwards a call (one of
   * `tokens`, with every namespace). Needed only when tokens are required.
   */
  clusterToken?: string;
  /** The `host:port` other nodes and workers reach this node at (default: the address it listens on). */
  advertise?: string;
}

/** A running server: its address, its engine, and a graceful close. */
export interface PerdureServer {
  readonly engine: Engine;
  /** Durable schedules that start workflows on cron expressions or intervals. */
  readonly schedules: ScheduleService;
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** `ws://host:port/ws` */
  readonly wsUrl: string;
  readonly logger: Logger;
  /** Stops accepting work, closes connections, lets commits in flight finish, closes the store. */
  close(): Promise<void>;
}

/**
 * Starts a Perdure server: the engine on its store, the WebSocket hub for workers and clients,
 * and the HTTP API, on one port.
 *
 * @example
 * import { createServer } from 'perdure/server';
 * const server = await createServer({ workflows: [orderWorkflow], dataDir: './.perdure', port: 7233 });
 * // … later
 * await server.close();
 */
export async function createServer(options: ServerOptions): Promise<PerdureServer> {
  const host = options.host ?? '127.0.0.1';
  const tokens = options.tokens ?? [];
  if (tokens.length === 0 && !isLoopback(host) && !options.insecureListenAnywhere) {
    throw new InvalidArgumentError(
      `refusing to listen on ${host} without tokens: anyone who can reach it could run and read workflows. ` +
        'Give --auth-token (or a token file), listen on 127.0.0.1, or pass --insecure-listen-anywhere.',
    );
  }
  const auth = new Authenticator(tokens);
  const logger = options.logger === false ? pino({ level: 'silent' }) : options.logger ?? pino();
  const metrics = new Metrics();
  const dataDir = options.dataDir ?? './.perdure';
  const chosen = await serverStore(options.store, { dataDir, durability: options.durability });
  // Through the Store interface, so a store given ready-made reports its batches too.
  const stopObservingBatches = chosen.store.observeBatches?.(metrics.storeBatch) ?? (() => {});
  const stopObservingLeases = chosen.store.observeLeases?.(metrics.leaseEvent) ?? (() => {}); // before open: the first take counts
  const storeLabel = chosen.label;
  const engineLog = logger.child({ component: 'engine' });
  const engine = await Engine.start({
    workflows: options.workflows, store: chosen.store, clock: options.clock,
    workerLostGraceMs: options.workerLostGraceMs, historyLimits: options.historyLimits, maxPayloadBytes: options.maxPayloadBytes,
    stepLimits: options.stepLimits, idleEvictMs: options.idleEvictMs,
    observer: {
      committed: metrics.engineObserver.committed,
      stepStopped: (error) => engineLog.warn({ code: error.code, workflowId: error.workflowId, runId: error.runId, state: error.state }, error.message),
      historyWarning: (run) => engineLog.warn(
        { namespace: run.namespace, workflowId: run.workflowId, runId: run.runId, events: run.lastSeq, bytes: run.historyBytes },
        'history of %s is long (%d events): have the machine continue as new before it reaches the limit', run.workflowId, run.lastSeq,
      ),
      sideEffectFailed: ({ error, ...where }) => engineLog.error(
        { ...where, err: error },
        'inline action "%s" of run %s (workflow "%s") failed in state %s; the step stays committed and the run goes on. ' +
          'Move work that can fail into an activity, which is retried.', where.action, where.runId, where.workflowId, where.state,
      ),
    },
    retention: { ...options.retention, onSweep: (report) => {
      if (report.error) logger.error({ component: 'retention', err: report.error, deleted: report.deleted }, 'retention sweep failed');
      else if (report.deleted > 0) logger.info({ component: 'retention', deleted: report.deleted, byNamespace: report.byNamespace }, `retention: deleted ${report.deleted} closed executions`);
      options.retention?.onSweep?.(report);
    } },
  });
  // Every node serves the whole cluster: calls on executions of shards another node holds are
  // forwarded there (on LevelDB, one node holds the one shard, and nothing is ever forwarded).
  const ownership = engine.store.shards();
  const peers = new NodePeers({ nodeId: ownership.nodeId, token: options.clusterToken });
  // Forwarded calls are counted and timed (perdure_forwarded_requests_total).
  const forwarding = observedPeers(peers, metrics.forwarded);
  metrics.watchShards(ownership);
  const service = new ClusterService(engine, ownership, forwarding);
  engine.sendOtherNodesWorkTo(new OtherNodeWork(ownership, forwarding));
  let schedules: ScheduleService;
  try {
    // Each node runs the schedules of its shards; their workflows start wherever their ids' shards are.
    schedules = await ScheduleService.start({ engine: routedScheduleEngine(service, engine), store: engine.store, shards: ownership, clock: engine.clock, logger: logger.child({ component: 'schedules' }) });
  } catch (error) {
    await engine.stop();
    throw error;
  }
  const ops = new ClientOps(service, auth, new ClusterSchedules(schedules, ownership, forwarding));
  // A call another node forwarded runs here or fails here: it is never forwarded again.
  const forwardedOps = new ClientOps(engine, auth, schedules, engine.crossShardWork, engine.reportsFromOtherNodes);
  // Workers connect to every node (docs/cluster.md, "Workers"): they learn the nodes here, and a
  // report on a task of another node's shard is forwarded there.
  const membership = new ClusterMembership(ownership);
  const workerCluster = { nodes: membership, forwarder: new TaskReportForwarder(ownership, forwarding) };
  const headersTimeout = options.headersTimeoutMs ?? WIRE_LIMITS.headersTimeoutMs;
  const app = Fastify({ loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger, bodyLimit: options.maxFrameBytes ?? WIRE_LIMITS.maxFrameBytes,
    // Node checks the headers timeout every connectionsCheckingInterval (30 s by default), so a
    // slow-loris socket lived timeout + 30 s (89.5 s, issue 15 bug 9): check every second (or
    // more often for a shorter timeout), a cheap walk over the open connections.
    http: { headersTimeout, requestTimeout: 0, connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))) },
    ...(options.logRequests === false ? { logController: new LogController({ disableRequestLogging: true }) } : {}),
  });
  registerHttpApi(app, { engine: service, ops, auth, metrics, cluster: ownership });
  registerUi(app, { engine: service, auth }); // after the API: its fallback must not shadow /api

  const hub = new WsHub({
    authenticate: (header) => auth.authenticate(header),
    maxFrameBytes: options.maxFrameBytes ?? WIRE_LIMITS.maxFrameBytes,
    pingIntervalMs: options.pingIntervalMs ?? WIRE_LIMITS.pingIntervalMs,
    peer: {
      auth, serverVersion: SERVER_VERSION, maxInFlightRequests: WIRE_LIMITS.maxInFlightRequests,
      helloTimeoutMs: options.helloTimeoutMs ?? WIRE_LIMITS.helloTimeoutMs,
      maxSendBufferBytes: options.maxSendBufferBytes ?? WIRE_LIMITS.maxSendBufferBytes,
      onProtocolError: (code) => metrics.protocolErrors.inc({ code }),
      onDropped: (message) => logger.warn({ component: 'hub', code: 'SEND_BUFFER_FULL' }, message),
      nodeList: membership,
    },
    makeRole: (context) => context.hello.role === 'worker'
      ? workerPeer(context, engine, (d) => metrics.workersConnected.inc(d), workerCluster)
      : clientPeer(context, context.hello.identity?.startsWith(NODE_IDENTITY_PREFIX) ? forwardedOps : ops, (d) => metrics.clientsConnected.inc(d)),
  });
  hub.attach(app.server);

  try {
    await app.listen({ host, port: options.port ?? DEFAULT_PORT });
  } catch (error) {
    await schedules.stop();
    await engine.stop();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // Other nodes forward calls here, and workers connect here: the cluster learns where it is.
  const advertised = options.advertise ?? `${isAnyAddress(address.address) ? '127.0.0.1' : urlHost}:${address.port}`;
  await ownership.setAddress?.(advertised);
  await membership.start(advertised);
  const types = engine.registry.types().map((t) => `${t.type}@${t.versions.join(',')}`);
  logger.info({ url: `http://${urlHost}:${address.port}`, ws: `ws://${urlHost}:${address.port}${WS_PATH}`, dataDir: storeLabel, workflowTypes: types, auth: auth.required },
    `Perdure listening on http://${urlHost}:${address.port} (data in ${storeLabel}; workflows: ${types.join(' ') || 'none'})`);
  const stopShardLog = logShardChanges(ownership, logger);

  let closing: Promise<void> | undefined;
  return {
    engine, schedules, host: address.address, port: address.port, logger,
    url: `http://${urlHost}:${address.port}`,
    wsUrl: `ws://${urlHost}:${address.port}${WS_PATH}`,
    close() {
      closing ??= (async () => {
        membership.stop();
        await hub.close();
        await app.close();
        await schedules.stop(); // before the engine and the peers: an action under way finishes its start (maybe on another node) and its write
        await peers.close();
        await engine.stop();
        stopShardLog();
        stopObservingBatches(); // a store given to this server may outlive it
        stopObservingLeases();
        logger.info('Perdure stopped');
      })();
      return closing;
    },
  };
}

/** 0.0.0.0 or :: — reachable, but not an address to give others; such nodes should pass `advertise`. */
function isAnyAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
