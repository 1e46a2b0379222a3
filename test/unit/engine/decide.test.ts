import { describe, expect, it } from 'vitest';
import { assign, enqueueActions, raise, sendTo, setup, type AnyMachineSnapshot } from 'xstate';
import { approvalWorkflow } from '../../../machines/approval.ts';
import { orderWorkflow } from '../../../machines/order.ts';
import { ActivityFailure, ApplicationFailure, toFailureInfo } from '../../../src/common/failures.ts';
import type { MachineEvent } from '../../../src/common/history.ts';
import { activity } from '../../../src/definition/activity.ts';
import { workflow, type WorkflowDefinition } from '../../../src/definition/workflow.ts';
import { CANCEL_EVENT, decide, toMachineEvent, type DeliveredEvent } from '../../../src/engine/core/decide.ts';
import { persistSnapshot } from '../../../src/engine/core/machine-step.ts';

// Pure tests of decide(): no engine, no store, no clock. Time is the `at` passed in.

const started = (definition: WorkflowDefinition, input?: unknown): DeliveredEvent =>
  ({ kind: 'WorkflowStarted', type: definition.type, version: definition.version, namespace: 'default', workflowId: 'wf-1', input });
const signal = (event: MachineEvent): DeliveredEvent => ({ kind: 'SignalReceived', event });
const ctx = (seq: number, at: number, pending: { activities?: string[]; timers?: string[] } = {}) =>
  ({ seq, at, workflowId: 'wf-1', activities: pending.activities ?? [], timers: pending.timers ?? [], children: [], history: { length: seq - 1, bytes: 0 } });

/** Starts a machine and returns its first snapshot. */
function start(definition: WorkflowDefinition, input?: unknown, at = 1_000): AnyMachineSnapshot {
  const decision = decide(definition, undefined, started(definition, input), ctx(1, at));
  expect(decision.status).toBe('running');
  return decision.snapshot;
}

const work = activity<{ job: string }, { done: boolean }>('work', { taskQueue: 'q', startToCloseTimeout: '5s' });
const cleanup = activity<{ reason: string }, void>('cleanup', { taskQueue: 'q' });

/** Works on an activity with a deadline timer; does not handle perdure.cancel. */
const deadlineWorkflow = workflow(setup({ actors: { work } }).createMachine({
  id: 'deadline', initial: 'working',
  states: {
    working: {
      invoke: { id: 'job', src: 'work', input: { job: 'j' }, onDone: 'done' },
      after: { 60_000: 'late' },
      on: { SKIP: 'skipped' },
    },
    skipped: { on: { FINISH: 'done' } },
    late: { type: 'final' },
    done: { type: 'final' },
  },
}));

/** The same shape, but it takes part in its own cancellation: it cleans up first. */
const cancelAwareWorkflow = workflow(setup({ actors: { work, cleanup } }).createMachine({
  id: 'cancelAware', initial: 'working',
  context: { reason: null as string | null, canceledAt: null as number | null },
  states: {
    working: {
      invoke: { id: 'job', src: 'work', input: { job: 'j' }, onDone: 'done' },
      on: {
        [CANCEL_EVENT]: {
          target: 'cleaningUp',
          actions: assign({
            reason: ({ event }) => (event as { reason?: string }).reason ?? null,
            canceledAt: ({ event }) => (event as { recordedAt?: number }).recordedAt ?? null,
          }),
        },
      },
    },
    cleaningUp: { invoke: { id: 'clean', src: 'cleanup', input: ({ context }) => ({ reason: context.reason! }), onDone: 'done' } },
    done: { type: 'final' },
  },
}));

describe('decide(): activities', () => {
  it('schedules the first activity on WorkflowStarted with its id, type, resolved input and options', () => {
    const decision = decide(orderWorkflow, undefined, started(orderWorkflow, { orderId: 'o-1', amount: 42, items: ['book'] }), ctx(1, 1_000));
    expect(decision.status).toBe('running');
    expect(decision.snapshot.value).toBe('charging');
    expect(decision.commands).toEqual([{
      kind: 'ActivityScheduled', activityId: 'charge', activityType: 'chargeCard', local: false,
      input: { orderId: 'o-1', amount: 42, fail: false },
      options: { taskQueue: 'orders', startToCloseTimeout: '10s', retry: { initialInterval: '100ms', maximumAttempts: 3 } },
    }]);
  });

  it('moves on when an activity completes and schedules the next one, with input from the updated context', () => {
    const charging = start(orderWorkflow, { orderId: 'o-1', amount: 42, items: ['book', 'pen'] });
    const decision = decide(orderWorkflow, charging, { kind: 'ActivityCompleted', activityId: 'charge', attempt: 1, output: { chargeId: 'ch_1' } },
      ctx(3, 2_000, { activities: ['charge'] }));
    expect(decision.status).toBe('running');
    expect(decision.snapshot.value).toBe('reserving');
    expect(decision.snapshot.context).toMatchObject({ chargeId: 'ch_1' });
    // The completed activity is not cancelled on the way out: it is already settled.
    expect(decision.commands).toEqual([{
      kind: 'ActivityScheduled', activityId: 'reserve', activityType: 'reserveInventory', local: false,
      input: { orderId: 'o-1', items: ['book', 'pen'], fail: false },
      options: { taskQueue: 'orders', startToCloseTimeout: '10s', retry: { initialInterval: '100ms', maximumAttempts: 3 } },
    }]);
  });

  it('cancels a pending activity when its state is exited by another event', () => {
    const working = start(deadlineWorkflow);
    const decision = decide(deadlineWorkflow, working, signal({ type: 'SKIP' }), ctx(4, 2_000, {
      activities: ['job'], timers: ['xstate.after.60000.deadline.working'],
    }));
    expect(decision.snapshot.value).toBe('skipped');
    expect(decision.commands).toEqual([
      { kind: 'TimerCanceled', timerId: 'xstate.after.60000.deadline.working' },
      { kind: 'ActivityCancelRequested', activityId: 'job' },
    ]);
  });
});

describe('decide(): durable timers', () => {
  it('starts a timer for each `after` transition, due at the event time plus the delay', () => {
    const decision = decide(approvalWorkflow, undefined, started(approvalWorkflow, { request: 'r', timeoutMs: 1_000 }), ctx(1, 5_000));
    expect(decision.commands).toEqual([
      { kind: 'TimerStarted', timerId: 'xstate.after.reminderDelay.approval.waiting', dueAt: 5_500, delayMs: 500, event: { type: 'xstate.after.reminderDelay.approval.waiting' } },
      { kind: 'TimerStarted', timerId: 'xstate.after.approvalTimeout.approval.waiting', dueAt: 6_000, delayMs: 1_000, event: { type: 'xstate.after.approvalTimeout.approval.waiting' } },
    ]);
  });

  it('cancels the timer when the state that started it is exited', () => {
    const working = start(deadlineWorkflow);
    const skipped = decide(deadlineWorkflow, working, signal({ type: 'SKIP' }), ctx(3, 2_000, {
      activities: ['job'], timers: ['xstate.after.60000.deadline.working'],
    }));
    expect(skipped.commands).toContainEqual({ kind: 'TimerCanceled', timerId: 'xstate.after.60000.deadline.working' });
    expect(skipped.status).toBe('running');
  });

  it('takes the delayed transition when its timer fires', () => {
    const working = start(deadlineWorkflow);
    const timerId = 'xstate.after.60000.deadline.working';
    const decision = decide(deadlineWorkflow, working, { kind: 'TimerFired', timerId, event: { type: timerId }, dueAt: 61_000 },
      ctx(3, 61_005, { activities: ['job'], timers: [timerId] }));
    expect(decision.snapshot.value).toBe('late');
    expect(decision.commands).toEqual([{ kind: 'ActivityCancelRequested', activityId: 'job' }, { kind: 'WorkflowCompleted', output: undefined }]);
  });

  it('gives a delayed raise without an id the id delayed.<seq>.<index>, from its place in the step', () => {
    const pinger = workflow(setup({}).createMachine({
      id: 'pinger', initial: 'idle',
      states: {
        idle: {
          entry: raise({ type: 'PING' }, { delay: 250 }),
          on: { ARM: { actions: [() => {}, raise({ type: 'PONG' }, { delay: 100 })] }, NAMED: { actions: raise({ type: 'N' }, { delay: 5, id: 'mine' }) } },
        },
      },
    }));
    const first = decide(pinger, undefined, started(pinger), ctx(1, 1_000));
    expect(first.commands).toEqual([{ kind: 'TimerStarted', timerId: 'delayed.1.0', dueAt: 1_250, delayMs: 250, event: { type: 'PING' } }]);
    const armed = decide(pinger, first.snapshot, signal({ type: 'ARM' }), ctx(7, 2_000, { timers: ['delayed.1.0'] }));
    expect(armed.commands).toEqual([{ kind: 'TimerStarted', timerId: 'delayed.7.1', dueAt: 2_100, delayMs: 100, event: { type: 'PONG' } }]);
    const named = decide(pinger, first.snapshot, signal({ type: 'NAMED' }), ctx(9, 3_000));
    expect(named.commands).toEqual([{ kind: 'TimerStarted', timerId: 'mine', dueAt: 3_005, delayMs: 5, event: { type: 'N' } }]);
  });

  it('restarts a timer whose id is still pending: cancels the old one first', () => {
    const again = workflow(setup({}).createMachine({
      id: 'again', initial: 'idle', states: { idle: { on: { ARM: { actions: raise({ type: 'RING' }, { delay: 10, id: 'bell' }) } } } },
    }));
    const idle = start(again);
    const decision = decide(again, idle, signal({ type: 'ARM' }), ctx(5, 100, { timers: ['bell'] }));
    expect(decision.commands).toEqual([
      { kind: 'TimerCanceled', timerId: 'bell' },
      { kind: 'TimerStarted', timerId: 'bell', dueAt: 110, delayMs: 10, event: { type: 'RING' } },
    ]);
  });
});

describe('decide(): cancellation', () => {
  it('ends Canceled and cancels every pending activity and timer when the machine does not handle perdure.cancel', () => {
    const working = start(deadlineWorkflow);
    const decision = decide(deadlineWorkflow, working, { kind: 'CancelRequested', reason: 'customer left' }, ctx(3, 2_000, {
      activities: ['job'], timers: ['xstate.after.60000.deadline.working'],
    }));
    expect(decision.status).toBe('canceled');
    expect(decision.snapshot).toBe(working);
    expect(decision.commands).toEqual([
      { kind: 'ActivityCancelRequested', activityId: 'job' },
      { kind: 'TimerCanceled', timerId: 'xstate.after.60000.deadline.working' },
      { kind: 'WorkflowCanceled', reason: 'customer left' },
    ]);
  });

  it('delivers perdure.cancel, with its reason and time, to a machine that handles it, and keeps running', () => {
    const working = start(cancelAwareWorkflow);
    const decision = decide(cancelAwareWorkflow, working, { kind: 'CancelRequested', reason: 'customer left' }, ctx(3, 2_500, { activities: ['job'] }));
    expect(decision.status).toBe('running');
    expect(decision.snapshot.value).toBe('cleaningUp');
    expect(decision.snapshot.context).toEqual({ reason: 'customer left', canceledAt: 2_500 });
    expect(decision.commands).toEqual([
      { kind: 'ActivityCancelRequested', activityId: 'job' },
      { kind: 'ActivityScheduled', activityId: 'clean', activityType: 'cleanup', local: false, input: { reason: 'customer left' }, options: { taskQueue: 'q' } },
    ]);
  });
});

describe('decide(): completion and failure', () => {
  it('completes with the machine output when a final state is reached, cancelling leftover timers', () => {
    const waiting = start(approvalWorkflow, { request: 'laptop', timeoutMs: 1_000 });
    const timers = ['xstate.after.reminderDelay.approval.waiting', 'xstate.after.approvalTimeout.approval.waiting'];
    const decision = decide(approvalWorkflow, waiting, signal({ type: 'APPROVE', approver: 'ana' }), ctx(4, 1_300, { timers }));
    expect(decision.status).toBe('completed');
    expect(decision.commands).toEqual([
      ...timers.map((timerId) => ({ kind: 'TimerCanceled', timerId })),
      { kind: 'WorkflowCompleted', output: { request: 'laptop', decision: 'approved', approver: 'ana', decidedAt: 1_300, reminders: 0 } },
    ]);
  });

  it('fails the execution with WorkflowFailed when a guard throws', () => {
    const guarded = workflow(setup({ actors: { work }, guards: { isReady: () => { throw new Error('guard exploded'); } } }).createMachine({
      id: 'guarded', initial: 'working',
      states: { working: { invoke: { id: 'job', src: 'work', input: { job: 'j' } }, on: { GO: { guard: 'isReady', target: 'done' } } }, done: { type: 'final' } },
    }));
    const working = start(guarded);
    const decision = decide(guarded, working, signal({ type: 'GO' }), ctx(3, 2_000, { activities: ['job'] }));
    expect(decision.status).toBe('failed');
    expect(decision.snapshot.status).toBe('error');
    expect(decision.commands).toEqual([
      { kind: 'ActivityCancelRequested', activityId: 'job' },
      { kind: 'WorkflowFailed', failure: expect.objectContaining({ code: 'APPLICATION_FAILURE', message: expect.stringMatching(/guard 'isReady'[\s\S]*guard exploded/) }) },
    ]);
  });

  it('fails the execution with WorkflowFailed when the context factory throws at start', () => {
    const picky = workflow(setup({}).createMachine({
      id: 'picky', initial: 'a', context: ({ input }) => { if (!input) throw new Error('input is required'); return {}; }, states: { a: {} },
    }));
    const decision = decide(picky, undefined, started(picky), ctx(1, 1_000));
    expect(decision.status).toBe('failed');
    expect(decision.commands).toEqual([{ kind: 'WorkflowFailed', failure: expect.objectContaining({ message: 'input is required' }) }]);
  });

  it('fails the execution with the typed ActivityFailure when an activity error is not handled', () => {
    const working = start(deadlineWorkflow);
    const failure = toFailureInfo(new ActivityFailure('work', 'job', 'maximumAttemptsReached', ApplicationFailure.create({ message: 'disk full' })));
    const decision = decide(deadlineWorkflow, working, { kind: 'ActivityFailed', activityId: 'job', attempt: 3, failure },
      ctx(9, 5_000, { activities: ['job'], timers: ['xstate.after.60000.deadline.working'] }));
    expect(decision.status).toBe('failed');
    expect(decision.commands).toEqual([
      { kind: 'TimerCanceled', timerId: 'xstate.after.60000.deadline.working' },
      { kind: 'WorkflowFailed', failure: expect.objectContaining({ code: 'ACTIVITY_FAILURE', retryState: 'maximumAttemptsReached', cause: expect.objectContaining({ message: 'disk full' }) }) },
    ]);
  });

  it('fails the execution with an InvalidDefinition failure for a spawnChild without id hidden in enqueueActions', () => {
    const hidden = workflow(setup({ actors: { work } }).createMachine({
      id: 'hidden', initial: 'a', states: { a: { entry: enqueueActions(({ enqueue }) => enqueue.spawnChild('work', { input: { job: 'j' } })) } },
    }));
    const decision = decide(hidden, undefined, started(hidden), ctx(1, 1_000));
    expect(decision.status).toBe('failed');
    expect(decision.sideEffects).toEqual([]);
    expect(decision.commands).toEqual([{
      kind: 'WorkflowFailed',
      failure: { code: 'APPLICATION_FAILURE', type: 'InvalidDefinition', nonRetryable: true, message: expect.stringContaining('"work" has no explicit id') },
    }]);
  });

  it('accepts a spawnChild with an explicit id inside enqueueActions as an activity', () => {
    const visible = workflow(setup({ actors: { work } }).createMachine({
      id: 'visible', initial: 'a', states: { a: { entry: enqueueActions(({ enqueue }) => enqueue.spawnChild('work', { id: 'w1', input: { job: 'j' } })) } },
    }));
    const decision = decide(visible, undefined, started(visible), ctx(1, 1_000));
    expect(decision.status).toBe('running');
    expect(decision.commands).toEqual([expect.objectContaining({ kind: 'ActivityScheduled', activityId: 'w1', activityType: 'work' })]);
  });

  it('refuses sendTo another actor the same way, cancelling what is pending', () => {
    const chatty = workflow(setup({ actors: { work } }).createMachine({
      id: 'chatty', initial: 'a',
      states: { a: { invoke: { id: 'job', src: 'work', input: { job: 'j' } }, on: { PING: { actions: sendTo('job', { type: 'HELLO' }) } } } },
    }));
    const a = start(chatty);
    const decision = decide(chatty, a, signal({ type: 'PING' }), ctx(3, 2_000, { activities: ['job'] }));
    expect(decision.status).toBe('failed');
    expect(decision.commands).toEqual([
      { kind: 'ActivityCancelRequested', activityId: 'job' },
      { kind: 'WorkflowFailed', failure: { code: 'APPLICATION_FAILURE', type: 'InvalidDefinition', nonRetryable: true, message: expect.stringContaining('sendTo another actor is not durable') } },
    ]);
  });

  it('turns a sendTo the machine itself into a durable timer', () => {
    const selfish = workflow(setup({}).createMachine({
      id: 'selfish', initial: 'a',
      states: { a: { on: { PING: { actions: sendTo(({ self }) => self, { type: 'PONG' }, { delay: 30, id: 'pong' }) }, PONG: 'b' } }, b: {} },
    }));
    const a = start(selfish);
    const decision = decide(selfish, a, signal({ type: 'PING' }), ctx(2, 2_000));
    expect(decision.commands).toEqual([{ kind: 'TimerStarted', timerId: 'pong', dueAt: 2_030, delayMs: 30, event: { type: 'PONG' } }]);
  });
});

describe('decide(): determinism and event time', () => {
  it('gives the same commands and snapshot for the same inputs, every time', () => {
    const busy = workflow(setup({ actors: { work } }).createMachine({
      id: 'busy', initial: 'a', context: { n: 0 },
      states: {
        a: {
          entry: [raise({ type: 'TICK' }, { delay: 40 }), enqueueActions(({ enqueue }) => enqueue.spawnChild('work', { id: 'w', input: { job: 'x' } }))],
          after: { 1_000: 'b' },
          on: { BUMP: { actions: [assign({ n: ({ context }) => context.n + 1 }), raise({ type: 'TOCK' }, { delay: 5 })] } },
        },
        b: {},
      },
    }));
    const once = () => {
      const first = decide(busy, undefined, started(busy, { x: 1 }), ctx(1, 1_000));
      const second = decide(busy, first.snapshot, signal({ type: 'BUMP' }), ctx(4, 1_010, { activities: ['w'], timers: ['delayed.1.0', 'xstate.after.1000.busy.a'] }));
      return [first.commands, second.commands, persistSnapshot(busy.machine, second.snapshot)];
    };
    const a = once();
    const b = once();
    expect(a[0]).toHaveLength(3);
    expect(b).toEqual(a);
  });

  it('puts the recorded time in every event it delivers to the machine', () => {
    const failure = toFailureInfo(new ActivityFailure('work', 'job', 'timeout', ApplicationFailure.create({ message: 'slow' })));
    const delivered: DeliveredEvent[] = [
      started(deadlineWorkflow, { a: 1 }),
      signal({ type: 'APPROVE' }),
      { kind: 'UpdateAccepted', event: { type: 'SET' }, updateId: 'u-1' },
      { kind: 'TimerFired', timerId: 't', event: { type: 'RING' }, dueAt: 40 },
      { kind: 'ActivityCompleted', activityId: 'job', attempt: 1, output: { done: true } },
      { kind: 'ActivityFailed', activityId: 'job', attempt: 2, failure },
      { kind: 'CancelRequested', reason: 'bye' },
    ];
    const events = delivered.map((e) => toMachineEvent(e, 42));
    expect(events.map((e) => e.recordedAt)).toEqual([42, 42, 42, 42, 42, 42, 42]);
    expect(events.map((e) => e.type)).toEqual(['xstate.init', 'APPROVE', 'SET', 'RING', 'xstate.done.actor.job', 'xstate.error.actor.job', CANCEL_EVENT]);
    expect(events[5]!.error).toBeInstanceOf(ActivityFailure);
  });

  it('keeps the server time when a signal carries its own recordedAt', () => {
    const waiting = start(approvalWorkflow, { request: 'laptop', timeoutMs: 1_000 });
    const decision = decide(approvalWorkflow, waiting, signal({ type: 'APPROVE', approver: 'ana', recordedAt: 1 }), ctx(4, 1_300));
    expect(decision.commands.at(-1)).toMatchObject({ kind: 'WorkflowCompleted', output: { decidedAt: 1_300 } });
  });
});
