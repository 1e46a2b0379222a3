import { InvalidArgumentError, PerdureError, TimeoutError } from '../common/errors.ts';
import { fromFailureInfo, type FailureInfo } from '../common/failures.ts';
import type { ExecutionStatus, HistoryEvent } from '../common/history.ts';
import type { ClientOp } from '../common/wire.ts';
import { ConnectionLostError, type ErrorContext } from './errors.ts';
import type { EventOf, OutputOf, WorkflowDescription, WorkflowState } from './types.ts';

/** The longest single server-side wait of `result()`; it asks again until the run closes or its own timeout ends. */
const RESULT_POLL_MS = 30_000;

/** The part of the connection a handle uses. */
export interface HandleTransport {
  call(op: ClientOp, args: Record<string, unknown>, context?: ErrorContext): Promise<unknown>;
}

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
   * wait is no single endless request, and a connection that drops meanwhile is re-established
   * and the wait resumed.
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
        answer = (await this.call('result', { timeoutMs: wait })) as typeof answer;
      } catch (error) {
        const more = Date.now() < deadline;
        if (error instanceof PerdureError && error.code === 'TIMEOUT') {
          if (more) continue;
          throw new TimeoutError(`execution "${this.workflowId}" did not close within ${timeoutMs} ms`);
        }
        // The wait was cut by a dropped connection: waiting again is safe (it only reads).
        if (error instanceof ConnectionLostError && error.sent && more) continue;
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

  private call(op: ClientOp, args: Record<string, unknown>, event?: unknown): Promise<unknown> {
    const eventType = (event as { type?: unknown } | undefined)?.type;
    return this.transport.call(op, { ...args, workflowId: this.workflowId }, {
      namespace: this.namespace, workflowId: this.workflowId, eventType: typeof eventType === 'string' ? eventType : undefined,
    });
  }
}
