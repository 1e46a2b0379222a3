import { describe, expect, it } from 'vitest';
import type { FailureInfo } from '../../../src/common/failures.ts';
import type { HistoryEvent, HistoryEventBody } from '../../../src/common/history.ts';
import { foldEvents } from '../../../src/engine/core/run-state.ts';
import type { RunRecord } from '../../../src/common/run-model.ts';

function emptyRun(): RunRecord {
  return {
    runId: 'run-1', namespace: 'default', workflowId: 'wf-1', type: 'order', version: 'v1',
    status: 'running', startedAt: 1_000, lastSeq: 0, snapshot: null, activities: {}, timers: {},
  };
}

/** Numbers events from `from`, each at time `at` unless it says otherwise. */
function events(from: number, ...bodies: (HistoryEventBody & { at?: number })[]): HistoryEvent[] {
  return bodies.map((body, i) => ({ at: 1_000 + i, ...body, seq: from + i }) as HistoryEvent);
}

const scheduled = (activityId: string, taskQueue = 'orders'): HistoryEventBody =>
  ({ kind: 'ActivityScheduled', activityId, activityType: 'chargeCard', input: { amount: 1 }, local: false, options: { taskQueue } });
const timerStarted = (timerId: string, dueAt: number): HistoryEventBody =>
  ({ kind: 'TimerStarted', timerId, dueAt, delayMs: dueAt - 1_000, event: { type: 'RING' } });
const failure: FailureInfo = { code: 'APPLICATION_FAILURE', message: 'gateway down', type: 'GatewayDown' };

describe('foldEvents()', () => {
  it('puts a task for a scheduled activity and records it as pending at attempt 1', () => {
    const { run, tasks, timers } = foldEvents(emptyRun(), events(1, scheduled('charge')));
    expect(tasks).toEqual({ put: [{ namespace: 'default', taskQueue: 'orders', runId: 'run-1', activityId: 'charge', attempt: 1 }], delete: [] });
    expect(timers).toEqual({ put: [], delete: [] });
    expect(run.activities.charge).toMatchObject({ activityType: 'chargeCard', attempt: 1, taskQueue: 'orders', scheduledAt: 1_000, attemptReadyAt: 1_000 });
    expect(run.lastSeq).toBe(1);
  });

  it('puts a local activity on no task queue and a queue-less one on "default"', () => {
    const local: HistoryEventBody = { kind: 'ActivityScheduled', activityId: 'l', activityType: 'lookup', input: null, local: true, options: {} };
    const plain: HistoryEventBody = { kind: 'ActivityScheduled', activityId: 'p', activityType: 'x', input: null, local: false, options: {} };
    const { tasks } = foldEvents(emptyRun(), events(1, local, plain));
    expect(tasks.put!.map((t) => [t.activityId, t.taskQueue])).toEqual([['l', ''], ['p', 'default']]);
  });

  it('deletes the task when the activity completes', () => {
    const first = foldEvents(emptyRun(), events(1, scheduled('charge')));
    const { run, tasks } = foldEvents(first.run, events(2, { kind: 'ActivityCompleted', activityId: 'charge', attempt: 1, output: { ok: true } }));
    expect(tasks).toEqual({ put: [], delete: [{ namespace: 'default', taskQueue: 'orders', runId: 'run-1', activityId: 'charge', attempt: 1 }] });
    expect(run.activities).toEqual({});
  });

  it('nets out an activity scheduled and completed in the same fold: no put survives', () => {
    const { run, tasks } = foldEvents(emptyRun(), events(1, scheduled('charge'), { kind: 'ActivityCompleted', activityId: 'charge', attempt: 1, output: null }));
    expect(tasks.put).toEqual([]);
    expect(tasks.delete).toHaveLength(1);
    expect(run.activities).toEqual({});
  });

  it('bumps the attempt on a retry and puts the task again for the next attempt', () => {
    const first = foldEvents(emptyRun(), events(1, scheduled('charge')));
    const { run, tasks } = foldEvents(first.run, events(2, { kind: 'ActivityAttemptFailed', activityId: 'charge', attempt: 1, failure, nextAttemptAt: 1_100 }));
    expect(run.activities.charge).toMatchObject({ attempt: 2, attemptReadyAt: 1_100, lastFailure: failure, scheduledAt: 1_000 });
    expect(tasks).toEqual({ put: [{ namespace: 'default', taskQueue: 'orders', runId: 'run-1', activityId: 'charge', attempt: 2 }], delete: [] });
  });

  it('deletes the current attempt\'s task when a retried activity finally fails', () => {
    const retried = foldEvents(emptyRun(), events(1, scheduled('charge'), { kind: 'ActivityAttemptFailed', activityId: 'charge', attempt: 1, failure, nextAttemptAt: 1_100 }));
    const { run, tasks } = foldEvents(retried.run, events(3, { kind: 'ActivityFailed', activityId: 'charge', attempt: 2, failure }));
    expect(tasks.delete).toEqual([{ namespace: 'default', taskQueue: 'orders', runId: 'run-1', activityId: 'charge', attempt: 2 }]);
    expect(run.activities).toEqual({});
  });

  it('ignores a retry record for an activity that is no longer pending', () => {
    const { run, tasks } = foldEvents(emptyRun(), events(1, { kind: 'ActivityAttemptFailed', activityId: 'gone', attempt: 1, failure, nextAttemptAt: 2_000 }));
    expect(run.activities).toEqual({});
    expect(tasks).toEqual({ put: [], delete: [] });
  });

  it('puts a started timer in the index at its due time', () => {
    const { run, timers } = foldEvents(emptyRun(), events(1, timerStarted('t1', 5_000)));
    expect(timers).toEqual({ put: [{ dueAt: 5_000, runId: 'run-1', id: 't1', kind: 'timer' }], delete: [] });
    expect(run.timers.t1).toEqual({ timerId: 't1', dueAt: 5_000, event: { type: 'RING' } });
  });

  it('leaves no put for a timer started and cancelled in the same fold', () => {
    const { run, timers } = foldEvents(emptyRun(), events(1, timerStarted('t1', 5_000), { kind: 'TimerCanceled', timerId: 't1' }));
    expect(timers.put).toEqual([]);
    expect(timers.delete).toEqual([{ dueAt: 5_000, runId: 'run-1', id: 't1', kind: 'timer' }]);
    expect(run.timers).toEqual({});
  });

  it('deletes the old entry and puts the new one when a timer is restarted under the same id', () => {
    const first = foldEvents(emptyRun(), events(1, timerStarted('bell', 5_000)));
    const { run, timers } = foldEvents(first.run, events(2, { kind: 'TimerCanceled', timerId: 'bell' }, timerStarted('bell', 9_000)));
    expect(timers.delete).toEqual([{ dueAt: 5_000, runId: 'run-1', id: 'bell', kind: 'timer' }]);
    expect(timers.put).toEqual([{ dueAt: 9_000, runId: 'run-1', id: 'bell', kind: 'timer' }]);
    expect(run.timers.bell!.dueAt).toBe(9_000);
  });

  it('deletes a timer that fired', () => {
    const first = foldEvents(emptyRun(), events(1, timerStarted('t1', 5_000)));
    const { run, timers } = foldEvents(first.run, events(2, { kind: 'TimerFired', timerId: 't1', event: { type: 'RING' }, dueAt: 5_000 }));
    expect(timers).toEqual({ put: [], delete: [{ dueAt: 5_000, runId: 'run-1', id: 't1', kind: 'timer' }] });
    expect(run.timers).toEqual({});
  });

  it('drops every pending activity and timer on termination and closes the run', () => {
    const open = foldEvents(emptyRun(), events(1, scheduled('charge'), scheduled('reserve', 'stock'), timerStarted('t1', 5_000), timerStarted('t2', 6_000)));
    const { run, tasks, timers } = foldEvents(open.run, events(5, { kind: 'WorkflowTerminated', reason: 'operator', at: 2_000 }));
    expect(run.activities).toEqual({});
    expect(run.timers).toEqual({});
    expect(tasks.put).toEqual([]);
    expect(tasks.delete!.map((t) => [t.activityId, t.taskQueue])).toEqual([['charge', 'orders'], ['reserve', 'stock']]);
    expect(timers.put).toEqual([]);
    expect(timers.delete!.map((t) => t.id)).toEqual(['t1', 't2']);
    expect(run).toMatchObject({ status: 'terminated', closedAt: 2_000, failure: { code: 'TERMINATED_FAILURE', message: 'terminated: operator' } });
  });

  it('records how the run closed: completed with output, failed with failure, canceled with reason', () => {
    expect(foldEvents(emptyRun(), events(1, { kind: 'WorkflowCompleted', output: { n: 1 }, at: 3_000 })).run)
      .toMatchObject({ status: 'completed', closedAt: 3_000, output: { n: 1 } });
    expect(foldEvents(emptyRun(), events(1, { kind: 'WorkflowFailed', failure, at: 3_000 })).run)
      .toMatchObject({ status: 'failed', closedAt: 3_000, failure });
    expect(foldEvents(emptyRun(), events(1, { kind: 'WorkflowCanceled', reason: 'not needed', at: 3_000 })).run)
      .toMatchObject({ status: 'canceled', closedAt: 3_000, failure: { code: 'CANCELLED_FAILURE', message: 'not needed' } });
  });

  it('asks to close a child whose start is not recorded yet (its run may exist) and drops its start', () => {
    const child: HistoryEventBody = { kind: 'ChildWorkflowScheduled', childId: 'ship', workflowType: 'shipment', workflowId: 'wf-1/ship', input: null, parentClosePolicy: 'terminate' };
    const open = foldEvents(emptyRun(), events(1, child)).run;
    expect(Object.keys(open.outbox!)).toEqual(['startChild:ship']);
    const { run, timers } = foldEvents(open, events(2, { kind: 'WorkflowTerminated', reason: 'operator', at: 2_000 }));
    expect(run.children).toEqual({});
    expect(Object.values(run.outbox!)).toEqual([
      expect.objectContaining({ kind: 'closeChild', childId: 'ship', runId: open.children!.ship!.runId, action: 'terminate' }),
    ]);
    expect(timers.delete!.map((t) => [t.kind, t.id])).toEqual([['outbox', 'startChild:ship']]);
    expect(timers.put!.map((t) => [t.kind, t.id])).toEqual([['outbox', 'closeChild:ship:2']]);
  });

  it('does not modify the run record it is given', () => {
    const open = foldEvents(emptyRun(), events(1, scheduled('charge'), timerStarted('t1', 5_000))).run;
    const before = structuredClone(open);
    foldEvents(open, events(3,
      { kind: 'ActivityAttemptFailed', activityId: 'charge', attempt: 1, failure, nextAttemptAt: 1_100 },
      scheduled('reserve'),
      { kind: 'TimerFired', timerId: 't1', event: { type: 'RING' }, dueAt: 5_000 },
      { kind: 'WorkflowTerminated', reason: 'operator' },
    ));
    expect(open).toEqual(before);
  });
});
