import type { AnyMachineSnapshot } from 'xstate';
import { __unsafe_getAllOwnEventDescriptors } from 'xstate';
import { ExecutionClosedError, InvalidArgumentError, MachineStepError, PerdureError, TaskTokenStaleError, UpdateRejectedError } from '../../common/errors.ts';
import { ActivityFailure, ApplicationFailure, fromFailureInfo, toFailureInfo, type FailureInfo } from '../../common/failures.ts';
import type { QueryResult } from '../../common/execution-types.ts';
import { CLOSED_STATUSES, type HistoryEvent, type HistoryEventBody, type MachineEvent } from '../../common/history.ts';
import type { MigratedState, Migration, WorkflowDefinition } from '../../definition/workflow.ts';
import type { RunCommit, Store } from '../../store/store.ts';
import type { PendingChild, RunRecord } from '../../common/run-model.ts';
import { decide, type Decision, type DeliveredEvent } from '../core/decide.ts';
import { persistSnapshot, resolveMachineState, restoreSnapshot, snapshotValue } from '../core/machine-step.ts';
import { RunActor } from './run-actor.ts';
import { refuseUpdate } from '../core/update-validation.ts';
import { validatePayloadSize } from '../core/validate-input.ts';
import { retryDecision } from '../core/retry.ts';
import { decideContext, foldEvents, withoutOutboxItems } from '../core/run-state.ts';
import { historyOverLimit, type HistoryLimits } from '../core/history-limits.ts';
import { searchAttributesAfter } from '../core/search-attributes.ts';
import type { StepBudget, StepFailure, StepLimits } from '../core/step-budget.ts';

/** What an execution needs from the engine around it. */
export interface ExecutionHost {
  readonly store: Store;
  readonly historyLimits: HistoryLimits;
  /** Largest activity output accepted, as JSON bytes; a larger one fails the attempt for good. */
  readonly maxPayloadBytes: number;
  /** The limits of one machine step and the policy for a step that breaks them. */
  readonly stepLimits: StepLimits;
  /** The budget every step is taken under (one for all: steps are synchronous). */
  readonly stepBudget: StepBudget;
  now(): number;
  /** Told of a step that was stopped or threw and was not committed. Must not throw. */
  stepStopped(error: MachineStepError): void;
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
export class Execution extends RunActor {
  lastActiveAt: number;
  /**
   * Set when a step was stopped or threw under the 'block' policy: the run stays at its last
   * committed state and every event that would step the machine is refused with this error,
   * until a migration moves it to another version, a termination ends it, or the server
   * restarts (which retries: this lives in memory only, like the missing-version block).
   */
  blocked: MachineStepError | undefined;

  constructor(
    private readonly host: ExecutionHost,
    /** The machine version the run is on; a migration replaces it. */
    public definition: WorkflowDefinition,
    public run: RunRecord,
    public snapshot: AnyMachineSnapshot | undefined,
  ) {
    super(host.store);
    this.lastActiveAt = host.now();
  }

  get runId(): string {
    return this.run.runId;
  }

  get closed(): boolean {
    return CLOSED_STATUSES.has(this.run.status);
  }

  /** The run as reported: a blocked one says so and why; the stored run stays as it was. */
  get reported(): RunRecord {
    return this.blocked && !this.closed ? { ...this.run, status: 'blocked', blockedReason: this.blocked.message } : this.run;
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
      const refusal = refuseUpdate(this.definition, this.snapshot!, event);
      if (refusal) throw new UpdateRejectedError(this.run.workflowId, event.type, this.query().accepts, refusal.reason);
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
    try {
      validatePayloadSize(output, `the output of activity "${activityId}"`, this.host.maxPayloadBytes);
    } catch (error) {
      // Retrying would produce the same output: the attempt fails for good, and the machine hears why.
      const failure = toFailureInfo(ApplicationFailure.create({ message: (error as Error).message, type: (error as { code?: string }).code ?? 'PAYLOAD_TOO_LARGE', nonRetryable: true }));
      return this.activityAttemptFailed(activityId, attempt, failure, token);
    }
    return this.enqueue(async () => {
      this.assertCurrentAttempt(activityId, attempt, token);
      await this.deliver({ kind: 'ActivityCompleted', activityId, attempt, output: output === undefined ? null : output });
    });
  }

  /** One attempt failed (thrown, or timed out): retry per policy, or deliver the final failure. */
  activityAttemptFailed(activityId: string, attempt: number, failure: FailureInfo, token: string): Promise<void> {
    return this.enqueue(async () => {
      const pending = this.assertCurrentAttempt(activityId, attempt, token);
      // A blocked run schedules no retry: the attempt stays outstanding and is dispatched again
      // once the block is lifted (a restart re-dispatches it).
      if (this.blocked) throw this.blocked;
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

  /**
   * Starts pending child `childId` with `start` (idempotent: it finds the run it made before a
   * crash), inside this execution's mailbox so that the child is never started after the parent
   * stopped waiting for it. A start the server refuses (`refused(error)`: the id is taken, the
   * type unknown…) is delivered to the machine as the child's failure.
   */
  startChild(childId: string, itemId: string, start: (child: PendingChild) => Promise<void>, refused: (error: unknown, child: PendingChild) => FailureInfo | undefined): Promise<void> {
    return this.enqueue(async () => {
      const child = this.run.children?.[childId];
      if (this.closed || !child || child.started) {
        // (A closed run has no startChild item left: closing dropped it with the child.)
        await this.settleLocked([itemId]);
        return;
      }
      try {
        await start(child);
      } catch (error) {
        const failure = refused(error, child);
        if (!failure) throw error;
        await this.deliver({ kind: 'ChildWorkflowFailed', childId, workflowId: child.workflowId, failure });
        return;
      }
      await this.record([{ kind: 'ChildWorkflowStarted', childId, workflowId: child.workflowId, runId: child.runId }]);
    });
  }

  /** A child closed: delivered if this run still waits for it (a child it stopped waiting for is ignored). */
  childClosed(childId: string, runId: string, result: { output?: unknown; failure?: FailureInfo }): Promise<void> {
    return this.enqueue(async () => {
      const child = this.run.children?.[childId];
      if (this.closed || !child) return;
      const { workflowId } = child;
      await this.deliver(result.failure
        ? { kind: 'ChildWorkflowFailed', childId, workflowId, runId, failure: result.failure }
        : { kind: 'ChildWorkflowCompleted', childId, workflowId, runId, output: result.output ?? null });
    });
  }

  /**
   * Moves the run to the machine version `target` with a migration function: the state it
   * maps to is checked against the new machine, recorded (WorkflowMigrated), and the run goes on
   * there. Pending activities, timers and children carry over by id.
   */
  migrate(target: WorkflowDefinition, migration: Migration): Promise<void> {
    return this.enqueue(async () => {
      this.assertOpen();
      const from = this.snapshot ? { value: this.snapshot.value, context: this.snapshot.context } : storedState(this.run.snapshot);
      const to = migration(JSON.parse(JSON.stringify(from)) as MigratedState);
      if (typeof to !== 'object' || to === null || !('value' in to)) {
        throw new InvalidArgumentError(`the migration from version ${this.run.version} returned ${JSON.stringify(to)}, not { value, context }`);
      }
      let snapshot: AnyMachineSnapshot;
      try {
        snapshot = resolveMachineState(target.machine, to);
      } catch (error) {
        throw new InvalidArgumentError(`the migration from version ${this.run.version} gave the state ${JSON.stringify(to.value)}, which machine "${target.type}" version ${target.version} does not have: ${(error as Error).message}`);
      }
      const migrated: HistoryEventBody = {
        kind: 'WorkflowMigrated', fromVersion: this.run.version, toVersion: target.version,
        value: JSON.parse(JSON.stringify(snapshot.value)), context: JSON.parse(JSON.stringify(snapshot.context ?? null)),
      };
      const events = [{ ...migrated, seq: this.run.lastSeq + 1, at: this.host.now() }] as HistoryEvent[];
      await this.commitEvents(events, persistSnapshot(target.machine, snapshot), searchAttributesAfter(target, snapshot));
      this.definition = target;
      this.snapshot = snapshot;
      this.blocked = undefined; // the operator's fix: the run goes on, on the new version
      this.host.afterCommit(this, events, undefined);
    });
  }

  /**
   * Makes this new run from a commit planned elsewhere (a reset's: planReset), in its mailbox:
   * the first commit of the run, so nothing can come before it. Resolves once it is durable.
   */
  commitPlanned(commit: RunCommit): Promise<void> {
    return this.enqueue(async () => {
      if (this.run.lastSeq !== 0 || commit.previousLastSeq !== 0 || commit.run.runId !== this.runId) {
        throw new PerdureError('INTERNAL', `a planned commit makes a new run, but run ${this.runId} has ${this.run.lastSeq} events and the commit is for run ${commit.run.runId} after event #${commit.previousLastSeq}: a bug in the engine, please report it.`);
      }
      await this.write(commit);
      this.run = commit.run;
      this.snapshot = commit.run.lastSeq === 0 ? undefined : restoreSnapshot(this.definition.machine, commit.run.snapshot);
    });
  }

  /** Removes outbox items that have been done; false (nothing done) once the run has closed. */
  settleOutbox(itemIds: readonly string[]): Promise<boolean> {
    return this.enqueue(() => this.settleLocked(itemIds));
  }

  query(): QueryResult {
    const snapshot = this.snapshot;
    const { status } = this.reported;
    if (!snapshot) return { status, value: null, context: null, tags: [], accepts: [] };
    const accepts = this.closed ? [] : __unsafe_getAllOwnEventDescriptors(snapshot)
      .filter((type: string) => !type.startsWith('xstate.') && type !== '*');
    return {
      status,
      value: snapshot.value,
      context: JSON.parse(JSON.stringify(snapshot.context ?? null)),
      tags: [...snapshot.tags].sort(),
      accepts: [...new Set(accepts)].sort(),
    };
  }

  protected override enqueue<T>(job: () => Promise<T>): Promise<T> {
    this.lastActiveAt = this.host.now();
    return super.enqueue(job);
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
    if (this.blocked) throw this.blocked;
    const at = this.host.now();
    const seq = this.run.lastSeq + 1;
    const run = this.run;
    const decision = decide(this.definition, this.snapshot, body, decideContext(run, seq, at, this.host.stepBudget));
    if (decision.stepFailure && this.stopsAt(decision.stepFailure)) {
      // Invariant: nothing of a stopped step is committed, not even the event that caused it:
      // its sender is refused (a timer or a task result stays pending in the store).
      const first = this.snapshot === undefined;
      const error = new MachineStepError(decision.stepFailure.code, run.workflowId, run.runId, decision.stepFailure.state,
        `${decision.stepFailure.detail} (machine "${this.definition.type}" version ${this.definition.version}, on ${describeEvent(body)})`,
        first ? 'refused' : 'blocked', { cause: decision.snapshot.error });
      if (!first) this.blocked = error;
      this.host.stepStopped(error);
      throw error;
    }
    const events = [body, ...decision.commands].map((e, i): HistoryEvent => ({ ...e, seq: seq + i, at }));
    await this.commitEvents(events, persistSnapshot(this.definition.machine, decision.snapshot), searchAttributesAfter(this.definition, decision.snapshot));
    this.snapshot = decision.snapshot;
    this.host.afterCommit(this, events, decision);
    const overLimit = this.closed ? undefined : historyOverLimit(this.run, this.host.historyLimits);
    if (overLimit) await this.record([{ kind: 'WorkflowTerminated', reason: overLimit, code: 'HISTORY_LIMIT_EXCEEDED' }]);
  }

  /**
   * Whether a failed step stops the run where it is (nothing committed) rather than failing it.
   * A time budget overrun always does: replay on another machine could not reproduce it. A first
   * step has no committed state to stay at: it is refused unless the policy fails it.
   */
  private stopsAt(failure: StepFailure): boolean {
    return this.host.stepLimits.onStepFailure === 'block' || failure.code === 'STEP_TIME_BUDGET_EXCEEDED';
  }

  private async settleLocked(itemIds: readonly string[]): Promise<boolean> {
    // A closed run's record is changed by its ClosedRun actor alone (run-actor.ts), from the stored
    // record: `this.run` may predate its removals, and writing it would bring removed items back.
    if (this.closed) return false;
    if (!itemIds.some((id) => this.run.outbox?.[id])) return true;
    const { run, timers } = withoutOutboxItems(this.run, itemIds);
    await this.write({ run, previousLastSeq: run.lastSeq, previousStatus: this.run.status, events: [], timers });
    this.run = run;
    return true;
  }

  /** Commits records the machine does not see (a retry scheduled, a termination). */
  private async record(bodies: HistoryEventBody[], at = this.host.now()): Promise<void> {
    const events = bodies.map((e, i): HistoryEvent => ({ ...e, seq: this.run.lastSeq + 1 + i, at }));
    await this.commitEvents(events, this.run.snapshot);
    this.host.afterCommit(this, events, undefined);
  }

  private async commitEvents(events: HistoryEvent[], snapshot: unknown, searchAttributes?: RunRecord['searchAttributes']): Promise<void> {
    const { run, timers, tasks } = foldEvents(this.run, events);
    run.snapshot = snapshot;
    if (searchAttributes) run.searchAttributes = searchAttributes; // in the same atomic commit as the snapshot
    // Recorded where the run closes, so listings show it without reading the snapshot.
    if (CLOSED_STATUSES.has(run.status) && !CLOSED_STATUSES.has(this.run.status)) {
      const { value } = storedState(snapshot);
      if (value !== null) run.finalState = value;
    }
    await this.write({ run, previousLastSeq: this.run.lastSeq, previousStatus: this.run.lastSeq === 0 ? undefined : this.run.status, events, timers, tasks });
    this.run = run;
  }
}

/** A delivered event as a message names it: its kind, and the machine event type if any. */
function describeEvent(body: DeliveredEvent): string {
  if (body.kind === 'SignalReceived' || body.kind === 'UpdateAccepted' || body.kind === 'TimerFired') return `${body.kind}(${body.event.type})`;
  if (body.kind === 'ActivityCompleted' || body.kind === 'ActivityFailed') return `${body.kind}(${body.activityId})`;
  if (body.kind === 'ChildWorkflowCompleted' || body.kind === 'ChildWorkflowFailed') return `${body.kind}(${body.childId})`;
  return body.kind;
}

/** The state in a stored snapshot (the run's own machine version may not be registered). */
function storedState(stored: unknown): MigratedState {
  const persisted = snapshotValue(stored) as { value?: unknown; context?: unknown } | null;
  return { value: persisted?.value ?? null, context: persisted?.context ?? null };
}
