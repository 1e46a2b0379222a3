import { webSocketUrl } from '../common/address.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { ApplicationFailure, CancelledFailure, toFailureInfo } from '../common/failures.ts';
import { checkPayloadCodecOptions, type PayloadCodecOptions } from '../common/payload-codec.ts';
import type { ActivityTask, WorkerConnection, WorkerSession } from '../common/worker-protocol.ts';
import { activityInfo, type ActivityContext, type ActivityFunction } from './activity-context.ts';
import { ActivityPayloads, payloadFailure } from './activity-payloads.ts';
import { consoleWorkerLogger, silentWorkerLogger, WorkerLog, type WorkerLogger } from './worker-logger.ts';
import { WsWorkerConnection, type ConnectionEvent, type WsConnectionOptions } from './ws-connection.ts';
import { ClusterWorkerConnection } from './cluster-connection.ts';

/** A connection the worker made itself (for `address`), closed by shutdown(). */
type OwnedConnection = WorkerConnection & { close(): Promise<void>; readonly closed: Promise<void> };

/** Options of `Worker.create`: where tasks come from (`address` or `connection`), and what runs them. */
export interface WorkerOptions {
  /**
   * The server: `ws://127.0.0.1:7233/ws`, `http://127.0.0.1:7233` or `127.0.0.1:7233`. The
   * worker connects over WebSocket and reconnects by itself. Give this or `connection`.
   */
  address?: string;
  /** Bearer token, when the server requires one (a worker token for this namespace). */
  token?: string;
  /** Where tasks come from in-process: an `Engine` (tests, embedded use), or any WorkerConnection. */
  connection?: WorkerConnection;
  /** Default `'default'`. */
  namespace?: string;
  taskQueue: string;
  /** Activity implementations by the name given to activity(name, …). */
  activities: Record<string, ActivityFunction>;
  /** Tasks this worker runs at once; the server pushes no more than this. Default 100. */
  maxConcurrentActivities?: number;
  /** Shown by the server. Default `<hostname>:<pid>` over WebSocket. */
  identity?: string;
  /** Tuning of the WebSocket connections made for `address`: reconnect backoff, pings, frame limit, events. */
  connectionOptions?: Omit<WsConnectionOptions, 'address' | 'token' | 'namespace' | 'identity' | 'followCluster' | 'onNodes'>;
  /**
   * With `address` on a cluster (several servers on one PostgreSQL database): connect to every
   * live node, not only the one at `address`, so that each node pushes the tasks of its own
   * shards here (docs/cluster.md, "Workers"). The nodes are learnt from the one at `address`
   * and followed as they come and go; `maxConcurrentActivities` is shared between them.
   * Default true. Give false when the workers reach the cluster through a load balancer (or a
   * proxy) and cannot reach the nodes' own addresses: the worker then keeps the one connection,
   * and takes only the tasks of the shards of the node it lands on — so run enough workers that
   * every node gets some. No effect on one server, or with `connection`.
   */
  followCluster?: boolean;
  /**
   * Decodes envelopes anywhere in an activity's input (and in `info.heartbeatDetails`) before
   * calling it, and encodes the `encodeFields` of its output and heartbeat details. A value that
   * cannot be decoded fails the attempt with an ApplicationFailure typed by the error code
   * (PAYLOAD_DECODE_FAILED is not retried; PAYLOAD_KEY_UNKNOWN is). See docs/payloads.md.
   */
  payloadCodec?: PayloadCodecOptions;
  /**
   * Where the worker says what it does: when it connects (address, namespace, task queue,
   * activities), reconnects, and each failed attempt (activity, attempt, error type and message).
   * Default with `address`: a line per event on the console (`[perdure worker] …`); with an
   * in-process `connection` (tests, an embedded engine): nothing, unless a logger is given.
   * See {@link WorkerLogger}.
   *
   * @example
   * logger: { info: (msg, fields) => log.info(fields, msg), warn: (msg, fields) => log.warn(fields, msg) } // pino
   */
  logger?: WorkerLogger;
  /** Say nothing (no logger at all). Default false. */
  quiet?: boolean;
}

type ResolvedOptions = WorkerOptions & { namespace: string; maxConcurrentActivities: number; logger: WorkerLogger };

/** One task this worker was given, from arrival to the server's answer to its report. */
interface TaskRun {
  task: ActivityTask;
  abort: LazyAbort;
  /** The activity function was called. */
  started: boolean;
  /** The activity function returned or threw: heartbeats stop. */
  finished: boolean;
  heartbeating: boolean;
  nextHeartbeat?: { details: unknown };
}

/**
 * Runs activities from one task queue: the server pushes tasks up to `maxConcurrentActivities`
 * at once, the worker calls the function named by each and reports its result (or failure).
 *
 * When an activity may run twice: the server retries an attempt that failed, timed out, or
 * whose worker was lost (cut off longer than the server's worker-lost grace period) — a new
 * `ctx.info.attempt`, while the old one may still be running somewhere; and it runs the same
 * attempt again when the server itself crashed while the attempt ran. Use `ctx.info.taskToken`
 * (it names run, activity and attempt) or (workflowId, activityId) as the idempotency key of
 * side effects. A completion reported while disconnected is kept and sent after reconnecting.
 *
 * @example
 * import { Worker } from 'perdure/worker';
 * const worker = Worker.create({
 *   address: 'localhost:7233', taskQueue: 'payments',
 *   activities: { chargeCard: async ({ amount }, ctx) => payments.charge(amount, { idempotencyKey: ctx.info.taskToken }) },
 * });
 * process.on('SIGTERM', () => void worker.shutdown());
 * await worker.run(); // resolves once shutdown() has drained the tasks in flight
 *
 * It logs when it connects, reconnects, and each failed attempt (see `logger`, `quiet`, and
 * docs/connections.md).
 */
export class Worker {
  private session?: WorkerSession;
  /** The connection this worker made for `address` (closed by shutdown): to one node, or to every node of the cluster. */
  private owned?: OwnedConnection;
  private connecting?: Promise<OwnedConnection>;
  private running?: Promise<void>;
  private stopping?: Promise<void>;
  private readonly tasks = new Map<string, TaskRun>();
  /** Tasks that arrived while every slot ran a task (only after a reconnect, see WsWorkerConnection). */
  private readonly backlog: TaskRun[] = [];
  private busy = 0;
  private idleWaiters: (() => void)[] = [];
  private stopped!: () => void;
  private readonly finished: Promise<void>;
  private readonly payloads?: ActivityPayloads;
  private readonly log: WorkerLog;

  private constructor(private readonly options: ResolvedOptions) {
    this.finished = new Promise((resolve) => (this.stopped = resolve));
    if (options.payloadCodec) this.payloads = new ActivityPayloads(options.payloadCodec);
    this.log = new WorkerLog(options.logger, {
      namespace: options.namespace, taskQueue: options.taskQueue, activities: Object.keys(options.activities), slots: options.maxConcurrentActivities,
    });
  }

  /**
   * Checks the options and makes a worker; nothing connects until run().
   *
   * @throws InvalidArgumentError naming the option that is wrong.
   * @example
   * const worker = Worker.create({ address: 'http://127.0.0.1:7233', taskQueue: 'orders', activities: { chargeCard } });
   */
  static create(options: WorkerOptions): Worker {
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('Worker.create needs options');
    if (!options.connection === !options.address) {
      throw new InvalidArgumentError('Worker.create: give either address (a server, over WebSocket) or connection (in-process), not both and not neither');
    }
    if (options.address !== undefined) webSocketUrl(options.address); // throws naming what is wrong
    if (typeof options.taskQueue !== 'string' || !options.taskQueue) throw new InvalidArgumentError('Worker.create: taskQueue must be a non-empty string');
    if (!options.activities || typeof options.activities !== 'object') throw new InvalidArgumentError('Worker.create: activities must be an object of functions by activity name');
    for (const [name, fn] of Object.entries(options.activities)) {
      if (typeof fn !== 'function') throw new InvalidArgumentError(`Worker.create: activity "${name}" must be a function`);
    }
    const slots = options.maxConcurrentActivities ?? 100;
    if (!Number.isInteger(slots) || slots < 1) throw new InvalidArgumentError('Worker.create: maxConcurrentActivities must be a whole number ≥ 1');
    const payloadCodec = options.payloadCodec === undefined ? undefined : checkPayloadCodecOptions(options.payloadCodec, 'Worker.create');
    const { logger } = options;
    if (logger !== undefined && (typeof logger?.info !== 'function' || typeof logger?.warn !== 'function')) {
      throw new InvalidArgumentError('Worker.create: logger must have info(message, fields) and warn(message, fields) methods');
    }
    // In-process workers are mostly tests, whose output would drown in a line per attempt.
    const chosen = options.quiet ? silentWorkerLogger : (logger ?? (options.address !== undefined ? consoleWorkerLogger : silentWorkerLogger));
    return new Worker({ ...options, namespace: options.namespace ?? 'default', maxConcurrentActivities: slots, payloadCodec, logger: chosen });
  }

  /**
   * Connects (for `address`) and takes tasks; resolves after shutdown() has drained every task
   * in flight. Rejects when the server refuses the worker for good: a wrong token
   * (UNAUTHORIZED), a token for another namespace or role (FORBIDDEN), a protocol version it
   * does not speak (PROTOCOL_VERSION), a reserved task queue (INVALID_ARGUMENT); or when it
   * cannot be reached at first (CONNECTION_LOST, after `connectionOptions.connectTimeoutMs`).
   */
  run(): Promise<void> {
    this.running ??= this.start();
    return this.running;
  }

  /**
   * Takes no new tasks, waits until the tasks in flight have run and their reports were
   * answered, then closes the connection it made and lets run() resolve. Tasks the server
   * pushed before it learned of the shutdown are run too; the server waits for them as long as
   * their timeouts allow (a drain is not a lost worker).
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.connecting?.catch(() => {});
      const started = this.session !== undefined;
      if (started) this.log.draining(this.tasks.size);
      this.session?.close('drain');
      await this.idle();
      await this.owned?.close();
      if (started) this.log.stopped();
      this.stopped();
    })();
    return this.stopping;
  }

  private async start(): Promise<void> {
    if (this.stopping) return this.finished; // shut down before it ran
    let connection = this.options.connection;
    if (!connection) {
      const { address, token, namespace, identity, connectionOptions } = this.options;
      const onEvent = (event: ConnectionEvent) => {
        this.log.connection(event);
        connectionOptions?.onEvent?.(event);
      };
      const options: WsConnectionOptions = { ...connectionOptions, address: address!, token, namespace, identity, onEvent };
      this.connecting = this.options.followCluster === false ? WsWorkerConnection.connect(options) : ClusterWorkerConnection.connect(options);
      this.owned = await this.connecting;
      connection = this.owned;
    }
    if (!this.stopping) {
      this.session = connection.openSession(
        {
          namespace: this.options.namespace, taskQueue: this.options.taskQueue,
          activityTypes: Object.keys(this.options.activities), slots: this.options.maxConcurrentActivities,
          identity: this.options.identity,
        },
        {
          onTask: (task) => this.accept(task),
          onCancel: (token, reason) => this.cancel(token, reason),
        },
      );
      if (!this.owned) this.log.inProcess();
    }
    // A connection refused for good ends run() with the reason; a closed one after shutdown.
    await (this.owned ? Promise.race([this.finished, this.owned.closed.then(() => this.finished)]) : this.finished);
  }

  private accept(task: ActivityTask): void {
    // The same attempt pushed again (the server restarted while it ran here): one run reports for both.
    if (this.tasks.has(task.taskToken)) return;
    const run: TaskRun = { task, abort: new LazyAbort(), started: false, finished: false, heartbeating: false };
    this.tasks.set(task.taskToken, run);
    if (this.busy < this.options.maxConcurrentActivities) this.execute(run);
    else this.backlog.push(run);
  }

  private cancel(token: string, reason: string): void {
    const run = this.tasks.get(token);
    if (!run) return;
    const failure = new CancelledFailure(`activity cancelled by the server: ${reason}`);
    if (run.started) {
      run.abort.abort(failure);
      return;
    }
    // Never started: hand it back (the report returns its slot).
    this.backlog.splice(this.backlog.indexOf(run), 1);
    run.finished = true;
    void this.report(run, () => this.session!.fail(token, toFailureInfo(failure)));
  }

  private execute(run: TaskRun): void {
    this.busy++;
    run.started = true;
    void this.runActivity(run);
  }

  private async runActivity(run: TaskRun): Promise<void> {
    const { task } = run;
    const session = this.session!;
    let send: () => Promise<void>;
    try {
      const fn = Object.hasOwn(this.options.activities, task.activityType) ? this.options.activities[task.activityType] : undefined;
      if (!fn) throw ApplicationFailure.create({ message: `no activity "${task.activityType}" on this worker (task queue "${task.taskQueue}")`, type: 'ActivityNotRegistered' });
      const seen = this.payloads ? await this.payloads.decodeTask(task) : task;
      const output: unknown = await fn(seen.input, this.context(run, seen));
      const sent = this.payloads ? await this.payloads.encodeOutput(task.activityType, output) : output;
      send = () => session.complete(task.taskToken, sent);
    } catch (error) {
      const failure = toFailureInfo(payloadFailure(error));
      this.log.attemptFailed(task, failure);
      send = () => session.fail(task.taskToken, failure);
    }
    run.finished = true;
    this.busy--;
    const next = this.backlog.shift();
    if (next) this.execute(next);
    await this.report(run, send);
  }

  private async report(run: TaskRun, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      // Refused: TASK_TOKEN_STALE (the attempt timed out, was cancelled or retried meanwhile;
      // the server moved on and nothing is lost), or the connection was closed for good.
      if ((error as { code?: string }).code === 'TASK_TOKEN_STALE') this.log.reportStale(run.task);
    }
    this.tasks.delete(run.task.taskToken);
    if (this.tasks.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private idle(): Promise<void> {
    if (this.tasks.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** `seen` is the task as the activity sees it (its payloads decoded). */
  private context(run: TaskRun, seen: ActivityTask): ActivityContext {
    const abort = run.abort;
    return {
      info: activityInfo(seen),
      get signal() {
        return abort.signal;
      },
      heartbeat: (details?: unknown) => this.heartbeat(run, details),
    };
  }

  /**
   * At most one heartbeat per task waits for an answer; later ones keep only the latest details
   * and go when it returns, so an activity may call heartbeat() in a tight loop.
   */
  private heartbeat(run: TaskRun, details: unknown): void {
    if (run.finished) return;
    if (run.heartbeating) {
      run.nextHeartbeat = { details };
      return;
    }
    run.heartbeating = true;
    this.sendHeartbeat(run, details).then(
      (answer) => {
        if (answer.cancelRequested) run.abort.abort(new CancelledFailure('activity cancellation requested by the server'));
      },
      (error: { code?: string }) => {
        // The server no longer has this attempt (timed out, retried, cancelled): stop it.
        // Other errors (details too large, connection trouble) lose only this heartbeat.
        if (error?.code === 'TASK_TOKEN_STALE' || error?.code === 'EXECUTION_NOT_FOUND') {
          run.abort.abort(new CancelledFailure('the server no longer wants this attempt'));
        }
      },
    ).finally(() => {
      run.heartbeating = false;
      const next = run.nextHeartbeat;
      run.nextHeartbeat = undefined;
      if (next) this.heartbeat(run, next.details);
    });
  }

  private async sendHeartbeat(run: TaskRun, details: unknown): Promise<{ cancelRequested: boolean }> {
    if (!this.payloads || details === undefined) return this.session!.heartbeat(run.task.taskToken, details);
    const sent = await this.payloads.encodeHeartbeat(run.task.activityType, details);
    // The activity may have ended while the details were encoded: its report says the rest.
    return run.finished ? { cancelRequested: false } : this.session!.heartbeat(run.task.taskToken, sent);
  }
}

/**
 * An AbortController made only when the activity reads `ctx.signal` (most never do, and one
 * per task is measurable at thousands of tasks per second). Aborting before that is remembered.
 */
class LazyAbort {
  private controller?: AbortController;
  private reason?: unknown;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
