import { PerdureError } from '../common/errors.ts';
import type { ErrorCode } from '../common/error-codes.ts';
import { CLOSED_STATUSES, type ExecutionStatus } from '../common/history.ts';
import type { OverlapPolicy, ScheduleRecord } from '../common/schedule-types.ts';
import type { Clock } from '../common/clock.ts';
import { actionIdempotencyKey, actionWorkflowId, type ScheduleEngine } from './schedule-engine.ts';
import { overlapDecision, type ActionOutcome } from './schedule-state.ts';

/** Errors after which the same start may succeed later: the action is retried, not counted as failed. */
// The shard codes come of a start routed to another node in a cluster while the workflow's shard
// changes hands: the start was not applied, or its retry finds the run by its idempotency key.
const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ENGINE_STOPPED', 'STORE_FAILED', 'STORE_CLOSED', 'STORE_LOCKED', 'TIMEOUT', 'CONNECTION_LOST', 'INTERNAL', 'SHARD_NOT_HELD', 'SHARD_OWNERSHIP_LOST',
]);

/** What the taker answers for a buffered action whose predecessor is still open: nothing to write yet. */
export interface Wait {
  kind: 'wait';
  /** The open workflow to wait for. */
  workflowId: string;
}

/**
 * Takes one action of a schedule: finds out whether it was already taken, applies the overlap
 * policy, and starts the workflow. Writes nothing: the service writes the outcome.
 *
 * Exactly once across crashes:
 * ```
 *  decide ──► engine.start(workflowId, idempotencyKey) ──► store.putSchedule(outcome + next time)
 *                 crash here ─┘   on restart the same nominal time is taken again: the workflow id
 *                                 is found (step 1 below), so it is recorded, not started twice
 * ```
 * 1. The action's workflow id is a function of the nominal time, so a run under it means the
 *    action was taken before a crash: it is recorded as taken, whatever the overlap policy says now.
 * 2. Otherwise the overlap policy asks whether a recent action's workflow is open.
 * 3. The start carries an idempotency key built like the workflow id: a retried start returns
 *    the run the first one made.
 */
export class ActionTaker {
  constructor(private readonly engine: ScheduleEngine, private readonly clock: Clock) {}

  /**
   * The outcome of the action at `nominalTime`. With `buffered`, the action is the one bufferOne
   * kept: it starts once no recent action is open, else the answer is `wait`.
   * Throws only for transient errors (the caller retries later).
   */
  async take(record: ScheduleRecord, nominalTime: number, policy: OverlapPolicy, options: { buffered?: boolean; triggered?: boolean } = {}): Promise<ActionOutcome | Wait> {
    const { namespace } = record;
    const workflowId = actionWorkflowId(record.action.workflowIdPrefix, nominalTime);
    const existing = await this.current(namespace, workflowId);
    if (existing) {
      const known = record.state.recentActions.some((a) => a.workflowId === workflowId);
      return { kind: 'started', known, result: this.result(nominalTime, existing.startedAt, workflowId, existing.runId, options.triggered) };
    }
    if (policy !== 'allowAll') {
      const open = await this.openAction(record);
      if (open !== undefined && options.buffered) return { kind: 'wait', workflowId: open };
      const decision = overlapDecision(policy, open !== undefined, record.state.bufferedAt === undefined && !record.state.paused);
      if (decision === 'skip') return { kind: 'skipped' };
      if (decision === 'buffer') return { kind: 'buffered', nominalTime };
    }
    const actualTime = this.clock.now();
    try {
      const { runId } = await this.engine.start(record.action.workflowType, {
        namespace, workflowId, input: record.action.input, idempotencyKey: actionIdempotencyKey(record.scheduleId, nominalTime),
      });
      return { kind: 'started', result: this.result(nominalTime, actualTime, workflowId, runId, options.triggered) };
    } catch (error) {
      if (!(error instanceof PerdureError) || TRANSIENT.has(error.code)) throw error;
      return { kind: 'failed', failure: { nominalTime, at: actualTime, code: error.code, message: error.message } };
    }
  }

  /**
   * The workflow id of the newest recent action whose workflow is open (running or blocked), if
   * any. Only the last `RECENT_ACTIONS` actions are looked at: under skip and bufferOne at most
   * one is open at a time, unless a trigger with allowAll or a policy change made more.
   */
  async openAction(record: ScheduleRecord): Promise<string | undefined> {
    for (const action of [...record.state.recentActions].reverse()) {
      const run = await this.current(record.namespace, action.workflowId);
      if (run && !CLOSED_STATUSES.has(run.status)) return action.workflowId;
    }
    return undefined;
  }

  /** Resolves when the workflow closes, or at once if it has no open run. */
  async closed(namespace: string, workflowId: string): Promise<void> {
    await this.engine.result({ namespace, workflowId });
  }

  private async current(namespace: string, workflowId: string): Promise<{ runId: string; status: ExecutionStatus; startedAt: number } | undefined> {
    try {
      return await this.engine.describe({ namespace, workflowId });
    } catch (error) {
      if (error instanceof PerdureError && error.code === 'EXECUTION_NOT_FOUND') return undefined;
      throw error;
    }
  }

  private result(nominalTime: number, actualTime: number, workflowId: string, runId: string, triggered?: boolean) {
    return triggered ? { nominalTime, actualTime, workflowId, runId, triggered } : { nominalTime, actualTime, workflowId, runId };
  }
}
