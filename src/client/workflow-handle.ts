import { InvalidArgumentError, PerdureError, TimeoutError } from '../common/errors.ts';
import { fromFailureInfo, type FailureInfo } from '../common/failures.ts';
import type { ExecutionStatus, HistoryEvent } from '../common/history.ts';
import type { ClientOp } from '../common/wire.ts';
import { ConnectionLostError, type ErrorContext } from './errors.ts';
import type { EventOf, OutputOf, WorkflowDescription, WorkflowState } from './types.ts';

/** The longest single server-side wait of `result()`; it asks again until the run closes or its own timeout ends. */
const RESULT_POLL_MS = 30_000;

/** Per-call options of a transport. */
export interface CallOptions {
  /** How long a call made while disconnected waits for the connection; default the client's `reconnect.waitMs`. */
  waitMs?: number;
}

/** The part of the connection a handle uses. */
export interface HandleTransport {
  call(op: ClientOp, args: Record<string, unknown>, context?: ErrorContext, options?: CallOptions): Promise<unknown>;
}

/** Codes of a server that is going away: result() waits for the next one (the restart) and asks again. */
const SERVER_LEAVING = new Set(['ENGINE_STOPPED', 'STORE_CLOSED']);
/**
 * Codes of a cluster whose shard moved under the wait: the node holding the run's shard lost it
 * (SIGKILLed peer's lease taken, a hand-over) and rejected its waiters. The next call is routed
 * to the shard's new owner, so result() asks again (found by test/fault/cluster-crash.test.ts:
 * result() failed with SHARD_NOT_HELD while the execution went on to complete).
 */
const SHARD_MOVING = new Set(['SHARD_NOT_HELD', 'SHARD_OWNERSHIP_LOST']);
/** Pause before asking again after such an answer, so a stopping server is not asked in a tight loop. */
const LEAVING_RETRY_MS = 250;

/**
 * One workflow execution, by workflow id. Typed by its workflow: `WorkflowHandle<typeof
 * orderWorkflow>` takes only the machine's events and resolves `result()` with its output.
 *
 * Calls address the *current* run of the workflow id in the handle's namespace: after the run
 * closes and a new one starts with the same id, the handle reaches the new one.
 *
 * @example
 * const handle = client.getHandle<typeof approvalWorkflow>('approval-42');
 * await handle.signal({ type: 'APPROVE', approver: 'ann' });
 * const output = await handle.result(); // ApprovalOutput
 */
export class WorkflowHandle<W = unknown> {
  /** @internal Handles come from `client.start()` and `client.getHandle()`. */
  constructor(
    private readonly transport: HandleTransport,
    readonly namespace: string,
    readonly workflowId: string,
    /** The run `start()` made; undefined for a handle from `getHandle()` without one. */
    readonly runId?: string,
  ) {}

  /** Sends an event; resolves once it is durably recorded (the current state may ignore it). */
  async signal(event: EventOf<W>): Promise<void> {
    await this.call('signal', { event }, event);
  }

  /** The current state: state value, context, tags, status, and the event types it accepts. */
  async query(): Promise<WorkflowState<W>> {
    return (await this.call('query', {})) as WorkflowState<W>;
  }

  /**
   * Sends an event the current state must accept and resolves with the state after it was
   * processed. Rejects with `UpdateRejectedError` (code UPDATE_REJECTED) when the state does not
   * accept it; nothing is recorded then.
   */
  async update(event: EventOf<W>): Promise<WorkflowState<W>> {
    return (await this.call('update', { event }, event)) as WorkflowState<W>;
  }

  /** Requests cancellation: the machine may handle `perdure.cancel`; otherwise it ends canceled. */
  async cancel(reason?: string): Promise<void> {
    await this.call('cancel', { reason });
  }

  /** Ends the execution at once; the machine takes no further step. */
  async terminate(reason?: string): Promise<void> {
    await this.call('terminate', { reason });
  }

  /**
   * Starts a new run from the state after event #`eventSeq` of the current run (which is
   * terminated first if open). Resolves with the new run's id; this handle follows it.
   */
  async reset(eventSeq: number, reason?: string): Promise<{ runId: string }> {
    return this.call('reset', { eventSeq, reason }) as Promise<{ runId: string }>;
  }

  /**
   * Waits for the execution to close. Resolves with the machine's output when it completed;
   * rejects with the typed failure when it did not: `ApplicationFailure` (or `ActivityFailure`,
   * …) when it failed, `CancelledFailure` when canceled, `TerminatedFailure` when terminated.
   * With `timeoutMs`, rejects with `TimeoutError` (code TIMEOUT) if it is still open by then.
   *
   * Under the hood it asks the server to wait at most 30 s at a time and asks again, so a long
   * wait is no single endless request. It waits across server outages: a connection that drops
   * meanwhile is re-established and the wait resumed, for as long as the outage lasts — the
   * client's `reconnect.waitMs` does not apply here; `timeoutMs` is the only limit. When the
   * connection is still down at `timeoutMs`, it rejects with `ConnectionLostError`
   * (CONNECTION_LOST) rather than TIMEOUT: whether the execution closed is then unknown. In a
   * cluster it also waits across the move of the execution's shard to another node.
   *
   * @example
   * const output = await handle.result({ timeoutMs: 60_000 }); // TimeoutError when still open after a minute
   */
  async result(options: { timeoutMs?: number } = {}): Promise<OutputOf<W>> {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      throw new InvalidArgumentError(`timeoutMs: expected a non-negative number of ms, got ${timeoutMs}`);
    }
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const wait = Math.ceil(Math.max(0, Math.min(RESULT_POLL_MS, deadline - Date.now())));
      let answer: { status: ExecutionStatus; output?: unknown; failure?: FailureInfo };
      try {
        // While disconnected, wait for the connection as long as the caller waits for the result.
        answer = (await this.call('result', { timeoutMs: wait }, undefined, { waitMs: deadline - Date.now() })) as typeof answer;
      } catch (error) {
        const more = Date.now() < deadline;
        if (error instanceof PerdureError && error.code === 'TIMEOUT') {
          if (more) continue;
          throw new TimeoutError(`execution "${this.workflowId}" did not close within ${timeoutMs} ms`);
        }
        // The wait was cut by a dropped connection: waiting again is safe (it only reads).
        if (error instanceof ConnectionLostError && error.sent && more) continue;
        // The server is stopping (a restart): its socket closes next, and the call after that
        // waits for the new one.
        if (error instanceof PerdureError && (SERVER_LEAVING.has(error.code) || SHARD_MOVING.has(error.code)) && more) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(LEAVING_RETRY_MS, Math.max(0, deadline - Date.now()))));
          continue;
        }
        throw error;
      }
      if (answer.status === 'completed') return answer.output as OutputOf<W>;
      throw fromFailureInfo(answer.failure ?? {
        code: answer.status === 'canceled' ? 'CANCELLED_FAILURE' : answer.status === 'terminated' ? 'TERMINATED_FAILURE' : 'APPLICATION_FAILURE',
        message: `execution "${this.workflowId}" ${answer.status}`,
      });
    }
  }

  /** Everything the server knows of the execution: ids, type, version, status, pending work, current state. */
  async describe(): Promise<WorkflowDescription<W>> {
    return (await this.call('describe', {})) as WorkflowDescription<W>;
  }

  /** The execution's event history, oldest first. */
  async history(): Promise<HistoryEvent[]> {
    return ((await this.call('history', {})) as { events: HistoryEvent[] }).events;
  }

  private call(op: ClientOp, args: Record<string, unknown>, event?: unknown, options?: CallOptions): Promise<unknown> {
    const eventType = (event as { type?: unknown } | undefined)?.type;
    return this.transport.call(op, { ...args, workflowId: this.workflowId }, {
      namespace: this.namespace, workflowId: this.workflowId, eventType: typeof eventType === 'string' ? eventType : undefined,
    }, options);
  }
}
