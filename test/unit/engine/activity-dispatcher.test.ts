import { describe, expect, it } from 'vitest';
import type { FailureInfo } from '../../../src/common/failures.ts';
import type { ActivityTask, WorkerHandlers } from '../../../src/common/worker-protocol.ts';
import { ActivityDispatcher, type TaskRefWithToken } from '../../../src/engine/runtime/activity-dispatcher.ts';
import { decodeTaskToken, encodeTaskToken } from '../../../src/engine/core/task-token.ts';
import { TestClock } from '../../../src/testing/test-clock.ts';

// The dispatcher alone, on the test clock: what the engine hears (completed / failed) and what
// each worker is pushed or told to cancel.

function harness(workerLostGraceMs = 1_000) {
  const clock = new TestClock({ startAt: 0 });
  const completed: string[] = [];
  const failed: Array<{ token: string; failure: FailureInfo }> = [];
  const dispatcher = new ActivityDispatcher({
    clock,
    completed: async (task) => void completed.push(task.taskToken),
    failed: async (task, failure) => void failed.push({ token: task.taskToken, failure }),
    heartbeat: async () => ({ cancelRequested: false }),
    parseToken: (token): TaskRefWithToken => ({ ...decodeTaskToken(token), taskToken: token }),
  }, workerLostGraceMs);
  return { clock, dispatcher, completed, failed };
}

function task(runId: string, overrides: Partial<ActivityTask> = {}): ActivityTask {
  const ref = { namespace: 'default', shard: 0, runId, activityId: 'charge', attempt: 1 };
  return {
    ...ref, taskToken: encodeTaskToken(ref), taskQueue: 'payments', activityType: 'chargeCard',
    workflowId: `wf-${runId}`, workflowType: 'order', input: null, scheduledAt: 0, ...overrides,
  };
}

function worker(slots: number, activityTypes = ['chargeCard']) {
  const tasks: ActivityTask[] = [];
  const cancels: string[] = [];
  const handlers: WorkerHandlers = { onTask: (t) => void tasks.push(t), onCancel: (token) => void cancels.push(token) };
  return { registration: { namespace: 'default', taskQueue: 'payments', activityTypes, slots }, handlers, tasks, cancels };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ActivityDispatcher', () => {
  it('pushes no more tasks than a worker has free slots, oldest first, and the next one when a slot frees', async () => {
    const { dispatcher } = harness();
    for (const runId of ['r1', 'r2', 'r3']) dispatcher.enqueue(task(runId), 0);
    const w = worker(2);
    const session = dispatcher.openSession(w.registration, w.handlers);
    await settle();
    expect(w.tasks.map((t) => t.runId)).toEqual(['r1', 'r2']);
    expect(dispatcher.backlog()).toEqual({ 'default\u0000payments': 1 });
    await session.complete(w.tasks[0]!.taskToken, 'ok');
    await settle();
    expect(w.tasks.map((t) => t.runId)).toEqual(['r1', 'r2', 'r3']);
  });

  it('takes a cancelled task out of a long backlog without disturbing the order of the rest', async () => {
    const { dispatcher } = harness();
    for (let i = 0; i < 5_000; i++) dispatcher.enqueue(task(`r${i}`), 0);
    dispatcher.cancel('r2', 'charge', 'state exited');
    dispatcher.cancelRun('r4', 'terminated');
    const w = worker(4);
    dispatcher.openSession(w.registration, w.handlers);
    await settle();
    expect(w.tasks.map((t) => t.runId)).toEqual(['r0', 'r1', 'r3', 'r5']);
    expect(dispatcher.backlog()['default\u0000payments']).toBe(5_000 - 2 - 4);
  });

  it('skips a task no free worker accepts and gives the next one to a worker that does', async () => {
    const { dispatcher } = harness();
    dispatcher.enqueue(task('r1', { activityType: 'shipOrder' }), 0);
    dispatcher.enqueue(task('r2'), 0);
    const w = worker(5);
    dispatcher.openSession(w.registration, w.handlers);
    await settle();
    expect(w.tasks.map((t) => t.runId)).toEqual(['r2']);
    expect(dispatcher.backlog()['default\u0000payments']).toBe(1);
  });

  it('holds a retry until its backoff has passed on the clock', async () => {
    const { clock, dispatcher } = harness();
    const w = worker(1);
    dispatcher.openSession(w.registration, w.handlers);
    dispatcher.enqueue(task('r1'), 2_000);
    await settle();
    expect(w.tasks).toEqual([]);
    await clock.advance(2_000);
    await settle();
    expect(w.tasks.map((t) => t.runId)).toEqual(['r1']);
  });

  it('fails a task that waited longer than its schedule-to-start timeout, and never pushes it', async () => {
    const { clock, dispatcher, failed } = harness();
    const t = task('r1');
    dispatcher.enqueue(t, 0, { scheduleToStartTimeoutMs: 500 });
    await clock.advance(500);
    expect(failed).toMatchObject([{ token: t.taskToken, failure: { code: 'TIMEOUT_FAILURE', timeoutType: 'scheduleToStart' } }]);
    const w = worker(1);
    dispatcher.openSession(w.registration, w.handlers);
    await settle();
    expect(w.tasks).toEqual([]);
  });

  it('fails the attempt of a lost worker after the grace period, but waits for a draining one', async () => {
    const { clock, dispatcher, failed, completed } = harness(1_000);
    const lost = worker(1);
    const drained = worker(1);
    const lostSession = dispatcher.openSession(lost.registration, lost.handlers);
    dispatcher.enqueue(task('r1'), 0);
    await settle();
    const drainedSession = dispatcher.openSession(drained.registration, drained.handlers);
    dispatcher.enqueue(task('r2'), 0);
    await settle();
    expect([lost.tasks.length, drained.tasks.length]).toEqual([1, 1]);

    lostSession.close('lost');
    drainedSession.close('drain');
    await clock.advance(1_000);
    expect(failed.map((f) => [f.token, f.failure.type])).toEqual([[lost.tasks[0]!.taskToken, 'WorkerLost']]);
    await drainedSession.complete(drained.tasks[0]!.taskToken, 'ok');
    expect(completed).toEqual([drained.tasks[0]!.taskToken]);
  });

  it('lists worker sessions with their free slots and counts, the reports of a reconnected worker counted where its tasks were, closed ones for five minutes', async () => {
    const { clock, dispatcher, completed } = harness(60_000);
    const w = worker(3);
    const a = dispatcher.openSession({ ...w.registration, identity: 'w-a' }, w.handlers);
    dispatcher.openSession({ namespace: 'default', taskQueue: '__local', activityTypes: ['*'], slots: 10 }, worker(10).handlers, { internal: true });
    dispatcher.enqueue(task('r1'), 0);
    dispatcher.enqueue(task('r2'), 0);
    await settle();
    expect(dispatcher.workers()).toMatchObject([{ sessionId: expect.any(String), identity: 'w-a', taskQueue: 'payments', slots: 3, freeSlots: 1, tasksCompleted: 0 }]);

    // The connection drops; the worker reconnects and reports r1 through its new session.
    a.close('lost');
    const reconnected = worker(3);
    const b = dispatcher.openSession({ ...reconnected.registration, identity: 'w-a' }, reconnected.handlers);
    await clock.advance(1_000);
    await b.complete(w.tasks[0]!.taskToken, 'ok');
    expect(completed).toEqual([w.tasks[0]!.taskToken]);
    const [open, closed] = dispatcher.workers();
    expect(open).toMatchObject({ freeSlots: 3, tasksCompleted: 0, lastSeenAt: clock.now() });
    expect(closed).toMatchObject({ freeSlots: 0, tasksCompleted: 1, closedAt: clock.now() - 1_000 });
    expect(dispatcher.workers('other')).toEqual([]);

    await clock.advance(5 * 60_000);
    expect(dispatcher.workers().map((v) => v.sessionId)).toEqual([open!.sessionId]);
  });

  it('resizes a session\'s credit: no new task while over a smaller limit, more at once under a larger one', async () => {
    const { dispatcher } = harness();
    for (const runId of ['r1', 'r2', 'r3', 'r4', 'r5']) dispatcher.enqueue(task(runId), 0);
    const w = worker(2);
    const session = dispatcher.openSession(w.registration, w.handlers);
    await settle();
    expect(w.tasks).toHaveLength(2);
    session.resize!(1);
    await session.complete(w.tasks[0]!.taskToken, 'ok');
    await settle();
    expect(w.tasks, 'one in flight is the new limit: nothing more').toHaveLength(2);
    session.resize!(4);
    await settle();
    expect(w.tasks.map((t) => t.runId)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(dispatcher.workers()[0]).toMatchObject({ slots: 4, freeSlots: 0 });
    expect(() => session.resize!(0)).toThrow(/whole number/);
  });

  it('takes a report another node forwarded (no session of its own) and refuses a malformed one', async () => {
    const { dispatcher, completed } = harness();
    dispatcher.enqueue(task('r1'), 0);
    dispatcher.enqueue(task('r2'), 0);
    const w = worker(1);
    const session = dispatcher.openSession(w.registration, w.handlers);
    await settle();
    expect(w.tasks.map((t) => t.runId)).toEqual(['r1']);
    session.close('lost'); // the worker's connection to this node is gone
    const again = dispatcher.openSession(w.registration, w.handlers);
    await settle();
    await dispatcher.elsewhere.complete(w.tasks[0]!.taskToken, 'ok');
    expect(completed).toEqual([w.tasks[0]!.taskToken]);
    await settle();
    expect(w.tasks.map((t) => t.runId), 'the next task goes to the worker\'s new session').toEqual(['r1', 'r2']);
    await expect(dispatcher.elsewhere.complete('bm90LWEtdG9rZW4', null)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    again.close('drain');
  });
});
