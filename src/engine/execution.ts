import type { AnyMachineSnapshot } from 'xstate';
import { __unsafe_getAllOwnEventDescriptors } from 'xstate';
import { ExecutionClosedError, TaskTokenStaleError, UpdateRejectedError } from '../common/errors.ts';
import { ActivityFailure, fromFailureInfo, toFailureInfo, type FailureInfo } from '../common/failures.ts';
import type { QueryResult } from '../common/execution-types.ts';
import { CLOSED_STATUSES, type HistoryEvent, type HistoryEventBody, type MachineEvent } from '../common/history.ts';
import type { WorkflowDefinition } from '../definition/workflow.ts';
import type { RunRecord, Store } from '../store/store.ts';
import { decide, type Decision, type DeliveredEvent } from './decide.ts';
import { persistSnapshot } from './machine-step.ts';
import { Mailbox } from './mailbox.ts';
import { retryDecision } from './retry.ts';
import { searchAttributesAfter } from './search-attributes.ts';
import { foldEvents } from './run-state.ts';

/** What an execution needs from the engine around it. */
export interface ExecutionHost {
  readonly store: Store;
  now(): number;
  /** Called after every durable commit, in commit order: dispatch, arm timers, answer waiters. */
  afterCommit(execution: Execution, events: HistoryEvent[], decision: Decision | undefined): void;
}

// Declared with the other wire-visible shapes in common/execution-types.ts; still importable from here.
export type { QueryResult };

/**
 * One open execution: the actor that owns a run. Events are taken from its mailbox one at a
 * time; for each: record → decide → commit → act.
 *
 * Invariant: `run` and `snapshot` only ever hold committed state; they are replaced after the
 * commit is durable, so a failed commit leaves the execution as it was.
 */
export class Execution {
  private readonly mailbox = new Mailbox();
  lastActiveAt: number;

  constructor(
    private readonly host: ExecutionHost,
    readonly definition: WorkflowDefinition,
    public run: RunRecord,
    public snapshot: AnyMachineSnapshot | undefined,
  ) {
    this.lastActiveAt = host.now();
  }

  get runId(): string {
    return this.run.runId;
  }

  get closed(): boolean {
    return CLOSED_STATUSES.has(this.run.status);
  }

  get idle(): boolean {
    return this.mailbox.idle;
  }

  /** Resolves once every event enqueued so far has been processed. */
  settled(): Promise<void> {
    return this.mailbox.enqueue(async () => {});
  }

  /**
   * Records WorkflowStarted and takes the machine's first step; with `firstSignal` (signal-with-
   * start), delivers it in the same mailbox job, so no other event can come between the two.
   */
  begin(input: unknown, firstSignal?: MachineEvent): Promise<void> {
    const { namespace, workflowId, type, version } = this.run;
    return this.enqueue(async () => {
      await this.deliver({ kind: 'WorkflowStarted', type, version, namespace, workflowId, input });
      if (firstSignal === undefined) return;
      this.assertOpen(); // a machine that closes on its first step takes no signal
      await this.deliver({ kind: 'SignalReceived', event: firstSignal });
    });
  }

  signal(event: MachineEvent): Promise<void> {
    return this.enqueue(async () => {
      this.assertOpen();
      await this.deliver({ kind: 'SignalReceived', event });
    });
  }

  /** Applies the event only if the current state accepts it; resolves with the state after it. */
  update(event: MachineEvent, updateId: string): Promise<QueryResult> {
    return this.enqueue(async () => {
      this.assertOpen();
      if (!accepts(this.snapshot!, event)) {
        throw new UpdateRejectedError(this.run.workflowId, event.type, this.query().accepts);
      }
      await this.deliver({ kind: 'UpdateAccepted', event, updateId });
      return this.query();
    });
  }

  cancel(reason: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertOpen();
      await this.deliver({ kind: 'CancelRequested', reason });
    });
  }

  terminate(reason: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertOpen();
      await this.record([{ kind: 'WorkflowTerminated', reason }]);
    });
  }

  timerFired(timerId: string): Promise<void> {
    return this.enqueue(async () => {
      const timer = this.run.timers[timerId];
      if (this.closed || !timer) return; // cancelled or fired already: nothing to do
      await this.deliver({ kind: 'TimerFired', timerId, event: timer.event, dueAt: timer.dueAt });
    });
  }

  /** A worker's (or the local executor's) result for one attempt. Stale attempts are refused. */
  activityCompleted(activityId: string, attempt: number, output: unknown, token: string): Promise<void> {
    return this.enqueue(async () => {
      this.assertCurrentAttempt(activityId, attempt, token);
      await this.deliver({ kind: 'ActivityCompleted', activityId, attempt, output: output === undefined ? null : output });
    });
  }

  /** One attempt failed (thrown, or timed out): retry per policy, or deliver the final failure. */
  activityAttemptFailed(activityId: string, attempt: number, failure: FailureInfo, token: string): Promise<void> {
    return this.enqueue(async () => {
      const pending = this.assertCurrentAttempt(activityId, attempt, token);
      const now = this.host.now();
      const decision = retryDecision(pending.options, attempt, failure, now, pending.scheduledAt);
      if (decision.retry) {
        await this.record([{ kind: 'ActivityAttemptFailed', activityId, attempt, failure, nextAttemptAt: now + decision.delayMs }], now);
        return;
      }
      const cause = fromFailureInfo(failure);
      const final = toFailureInfo(new ActivityFailure(pending.activityType, activityId, decision.retryState, cause));
      await this.deliver({ kind: 'ActivityFailed', activityId, attempt, failure: final });
    });
  }

  /** Records heartbeat details in memory; they reach the next attempt if this one fails. */
  heartbeat(activityId: string, attempt: number, details: unknown, token: string): boolean {
    const pending = this.run.activities[activityId];
    if (!pending || pending.attempt !== attempt) throw new TaskTokenStaleError(token);
    if (details !== undefined) pending.heartbeatDetails = details;
    return pending.cancelRequested === true;
  }

  query(): QueryResult {
    const snapshot = this.snapshot;
    if (!snapshot) return { status: this.run.status, value: null, context: null, tags: [], accepts: [] };
    const accepts = this.closed ? [] : __unsafe_getAllOwnEventDescriptors(snapshot)
      .filter((type: string) => !type.startsWith('xstate.') && type !== '*');
    return {
      status: this.run.status,
      value: snapshot.value,
      context: JSON.parse(JSON.stringify(snapshot.context ?? null)),
      tags: [...snapshot.tags].sort(),
      accepts: [...new Set(accepts)].sort(),
    };
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    this.lastActiveAt = this.host.now();
    return this.mailbox.enqueue(job);
  }

  private assertOpen(): void {
    if (this.closed) throw new ExecutionClosedError(this.run.workflowId, this.run.status);
  }

  private assertCurrentAttempt(activityId: string, attempt: number, token: string) {
    const pending = this.run.activities[activityId];
    if (this.closed || !pending || pending.attempt !== attempt) throw new TaskTokenStaleError(token);
    return pending;
  }

  /** record → decide → commit → act, for an event the machine sees. */
  private async deliver(body: DeliveredEvent): Promise<void> {
    const at = this.host.now();
    const seq = this.run.lastSeq + 1;
    const decision = decide(this.definition, this.snapshot, body, {
      seq, at, activities: Object.keys(this.run.activities), timers: Object.keys(this.run.timers),
    });
    const events = [body, ...decision.commands].map((e, i): HistoryEvent => ({ ...e, seq: seq + i, at }));
    await this.commit(events, persistSnapshot(this.definition.machine, decision.snapshot), searchAttributesAfter(this.definition, decision.snapshot));
    this.snapshot = decision.snapshot;
    this.host.afterCommit(this, events, decision);
  }

  /** Commits records the machine does not see (a retry scheduled, a termination). */
  private async record(bodies: HistoryEventBody[], at = this.host.now()): Promise<void> {
    const events = bodies.map((e, i): HistoryEvent => ({ ...e, seq: this.run.lastSeq + 1 + i, at }));
    await this.commit(events, this.run.snapshot);
    this.host.afterCommit(this, events, undefined);
  }

  private async commit(events: HistoryEvent[], snapshot: unknown, searchAttributes?: RunRecord['searchAttributes']): Promise<void> {
    const { run, timers, tasks } = foldEvents(this.run, events);
    run.snapshot = snapshot;
    if (searchAttributes) run.searchAttributes = searchAttributes; // in the same atomic commit as the snapshot
    await this.host.store.commit({ run, previousLastSeq: this.run.lastSeq, previousStatus: this.run.lastSeq === 0 ? undefined : this.run.status, events, timers, tasks });
    this.run = run;
  }
}

/** Whether the state takes the event. A guard that throws counts as yes: the step then fails the run, as for a signal. */
function accepts(snapshot: AnyMachineSnapshot, event: MachineEvent): boolean {
  try {
    return snapshot.can(event);
  } catch {
    return true;
  }
}
