import type { FailureInfo } from '../common/failures.ts';
import type { ActivityTask } from '../common/worker-protocol.ts';
import type { ConnectionEvent } from './ws-connection.ts';

/**
 * Where a worker says what it does: connecting, the task queue and activities it serves,
 * reconnecting, each failed attempt. Two methods in the shape of Temporal's `Logger` (message
 * first, then structured fields), so that any logger fits in a line; the SDK depends on none.
 * Default: {@link consoleWorkerLogger}. `quiet: true` in the worker's options silences it.
 *
 * @example
 * import pino from 'pino';
 * const log = pino();
 * const logger: WorkerLogger = { info: (msg, fields) => log.info(fields, msg), warn: (msg, fields) => log.warn(fields, msg) };
 * Worker.create({ address, taskQueue: 'orders', activities, logger });
 */
export interface WorkerLogger {
  /** Connected, reconnected, serving, draining, stopped. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** A failed attempt, a lost connection, a result the server no longer wanted. */
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * One line per event: info on stdout, warnings on stderr, each starting `[perdure worker]`.
 *
 * @example
 * Worker.create({ connection: engine, taskQueue: 'orders', activities, logger: consoleWorkerLogger }); // in-process workers are quiet by default
 */
export const consoleWorkerLogger: WorkerLogger = {
  info: (message) => console.log(`[perdure worker] ${message}`),
  warn: (message) => console.warn(`[perdure worker] ${message}`),
};

/**
 * Says nothing (what `quiet: true` uses).
 *
 * @example
 * Worker.create({ address, taskQueue: 'orders', activities, logger: silentWorkerLogger });
 */
export const silentWorkerLogger: WorkerLogger = { info() {}, warn() {} };

/** What one Worker tells its logger, in words a person reading a terminal can act on. */
export class WorkerLog {
  private readonly logger: WorkerLogger;
  /** Whether a connection was ever made: before, a failed attempt is "cannot reach", not "lost". */
  private connectedOnce = false;

  constructor(
    logger: WorkerLogger,
    private readonly served: { namespace: string; taskQueue: string; activities: readonly string[]; slots: number },
  ) {
    // A logger that throws must not stop tasks from running or reports from being sent.
    const guard = (method: 'info' | 'warn') => (message: string, fields?: Record<string, unknown>) => {
      try {
        logger[method](message, fields);
      } catch {
        // dropped: the line is lost, the worker goes on
      }
    };
    this.logger = { info: guard('info'), warn: guard('warn') };
  }

  /** The connection made for `address` was made or lost. */
  connection(event: ConnectionEvent): void {
    const { namespace, taskQueue } = this.served;
    if (event.type === 'connected') {
      this.connectedOnce = true;
      const verb = event.reconnected ? 'reconnected' : 'connected';
      this.logger.info(`${taskQueue}: ${verb} to ${event.url} (namespace "${namespace}"), ${this.serving()}`, {
        event: verb, url: event.url, namespace, taskQueue, activities: this.served.activities, slots: this.served.slots,
      });
    } else {
      const fields = { event: 'disconnected', url: event.url, namespace, taskQueue, reason: event.reason, retryInMs: event.retryInMs };
      if (this.connectedOnce) {
        this.logger.warn(`${taskQueue}: connection to ${event.url} lost (${event.reason}); reconnecting in ${event.retryInMs} ms`, fields);
      } else {
        this.logger.warn(`${taskQueue}: cannot reach ${event.url} yet (${event.reason}); trying again in ${event.retryInMs} ms`, fields);
      }
    }
  }

  /** A worker on an in-process connection (an Engine) started taking tasks. */
  inProcess(): void {
    const { namespace, taskQueue } = this.served;
    this.logger.info(`${taskQueue}: taking tasks in-process (namespace "${namespace}"), ${this.serving()}`, {
      event: 'connected', namespace, taskQueue, activities: this.served.activities, slots: this.served.slots,
    });
  }

  /** An attempt threw (or its result could not be sent): the server decides whether to retry. */
  attemptFailed(task: ActivityTask, failure: FailureInfo): void {
    const type = failure.type ?? failure.code;
    const retry = failure.nonRetryable ? ' (non-retryable)' : '';
    this.logger.warn(
      `${task.taskQueue}: activity ${task.activityType} attempt ${task.attempt} failed${retry} ` +
        `(workflow "${task.workflowId}", activity id ${task.activityId}): ${type}: ${failure.message}`,
      {
        event: 'attemptFailed', taskQueue: task.taskQueue, activityType: task.activityType, activityId: task.activityId, attempt: task.attempt,
        workflowId: task.workflowId, runId: task.runId, errorType: type, errorMessage: failure.message, nonRetryable: failure.nonRetryable === true,
      },
    );
  }

  /** The server refused a report as stale: the attempt had timed out, been cancelled or retried meanwhile. */
  reportStale(task: ActivityTask): void {
    this.logger.warn(
      `${task.taskQueue}: the server no longer wanted the report of ${task.activityType} attempt ${task.attempt} ` +
        `(workflow "${task.workflowId}"): it timed out, was cancelled or was retried meanwhile`,
      { event: 'reportStale', taskQueue: task.taskQueue, activityType: task.activityType, attempt: task.attempt, workflowId: task.workflowId },
    );
  }

  draining(inFlight: number): void {
    this.logger.info(`${this.served.taskQueue}: shutting down, ${inFlight} activit${inFlight === 1 ? 'y' : 'ies'} in flight to finish`, {
      event: 'draining', taskQueue: this.served.taskQueue, inFlight,
    });
  }

  stopped(): void {
    this.logger.info(`${this.served.taskQueue}: stopped`, { event: 'stopped', taskQueue: this.served.taskQueue });
  }

  private serving(): string {
    const { activities, slots } = this.served;
    return `serving ${activities.length} activit${activities.length === 1 ? 'y' : 'ies'} (${activities.join(', ')}), ${slots} at once`;
  }
}
