import { InvalidArgumentError } from '../common/errors.ts';
import { ApplicationFailure, toFailureInfo } from '../common/failures.ts';
import type { ActivityTask, WorkerConnection, WorkerSession } from '../common/worker-protocol.ts';
import { activityInfo, type ActivityContext, type ActivityFunction } from './activity-context.ts';

export interface WorkerOptions {
  /** Where tasks come from: an in-process engine now; a server address with the WebSocket hub. */
  connection: WorkerConnection;
  namespace?: string;
  taskQueue: string;
  /** Activity implementations by the name given to activity(name, …). */
  activities: Record<string, ActivityFunction>;
  /** Tasks this worker runs at once; the server pushes no more than this. Default 100. */
  maxConcurrentActivities?: number;
  identity?: string;
}

/**
 * Runs activities from one task queue.
 *
 * @example
 * const worker = Worker.create({
 *   connection: engine, taskQueue: 'payments',
 *   activities: { chargeCard: async ({ amount }, ctx) => payments.charge(amount, { idempotencyKey: ctx.info.taskToken }) },
 * });
 * const running = worker.run();
 * // …
 * await worker.shutdown(); await running;
 */
export class Worker {
  private session?: WorkerSession;
  private readonly inFlight = new Map<string, { abort: LazyAbort; done: Promise<void> }>();
  private stopped?: () => void;
  private readonly finished: Promise<void>;

  private constructor(private readonly options: Required<Pick<WorkerOptions, 'namespace' | 'maxConcurrentActivities'>> & WorkerOptions) {
    this.finished = new Promise((resolve) => (this.stopped = resolve));
  }

  static create(options: WorkerOptions): Worker {
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('Worker.create needs options');
    if (!options.connection) throw new InvalidArgumentError('Worker.create: connection is required');
    if (typeof options.taskQueue !== 'string' || !options.taskQueue) throw new InvalidArgumentError('Worker.create: taskQueue must be a non-empty string');
    for (const [name, fn] of Object.entries(options.activities ?? {})) {
      if (typeof fn !== 'function') throw new InvalidArgumentError(`Worker.create: activity "${name}" must be a function`);
    }
    return new Worker({ namespace: 'default', maxConcurrentActivities: 100, ...options });
  }

  /** Starts taking tasks; resolves after shutdown() has drained every task in flight. */
  run(): Promise<void> {
    if (!this.session) {
      this.session = this.options.connection.openSession(
        {
          namespace: this.options.namespace, taskQueue: this.options.taskQueue,
          activityTypes: Object.keys(this.options.activities), slots: this.options.maxConcurrentActivities,
          identity: this.options.identity,
        },
        {
          onTask: (task) => this.execute(task),
          onCancel: (token) => this.inFlight.get(token)?.abort.abort(new Error('activity cancelled by the server')),
        },
      );
    }
    return this.finished;
  }

  /** Takes no new tasks, waits for the ones in flight to report, then lets run() resolve. */
  async shutdown(): Promise<void> {
    this.session?.close();
    await Promise.allSettled([...this.inFlight.values()].map((t) => t.done));
    this.stopped?.();
  }

  private context(task: ActivityTask, session: WorkerSession, abort: LazyAbort): ActivityContext {
    return {
      info: activityInfo(task),
      get signal() {
        return abort.signal;
      },
      heartbeat: (details?: unknown) => {
        session.heartbeat(task.taskToken, details).then(
          (r) => r.cancelRequested && abort.abort(new Error('activity cancelled by the server')),
          () => abort.abort(new Error('activity no longer wanted by the server')),
        );
      },
    };
  }

  private execute(task: ActivityTask): void {
    const abort = new LazyAbort();
    const session = this.session!;
    const done = (async () => {
      let outcome: { ok: true; output: unknown } | { ok: false; error: unknown };
      try {
        const fn = this.options.activities[task.activityType];
        if (!fn) throw ApplicationFailure.create({ message: `no activity "${task.activityType}" on this worker`, type: 'ActivityNotRegistered' });
        outcome = { ok: true, output: await fn(task.input, this.context(task, session, abort)) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      await (outcome.ok ? session.complete(task.taskToken, outcome.output) : session.fail(task.taskToken, toFailureInfo(outcome.error)));
    })().catch(() => {
      // A refused report (stale token) means the server has moved on; nothing is lost.
    }).finally(() => this.inFlight.delete(task.taskToken));
    this.inFlight.set(task.taskToken, { abort, done });
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
