import { beforeAll, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { approvalMachine, approvalWorkflow } from '../../../machines/approval.ts';
import { orderActivityImplementations } from '../../../machines/order-activities.ts';
import { orderMachine, orderWorkflow } from '../../../machines/order.ts';
import { NonDeterminismError } from '../../../src/common/errors.ts';
import type { HistoryEvent } from '../../../src/common/history.ts';
import { activity } from '../../../src/definition/activity.ts';
import { workflow, type WorkflowDefinition } from '../../../src/definition/workflow.ts';
import { ReplayTracker } from '../../../src/engine/core/replay-tracker.ts';
import { decide, type DeliveredEvent } from '../../../src/engine/core/decide.ts';
import { assertReplays, replayHistory } from '../../../src/engine/core/replay.ts';
import { createTestEngine } from '../../../src/testing/index.ts';
import { runWorker } from '../../helpers/engine.ts';

/** The histories and stored snapshots a real engine wrote; the engine is gone once they are read. */
interface Recorded {
  history: HistoryEvent[];
  snapshot: unknown;
}

async function record(definition: WorkflowDefinition, drive: (engine: Awaited<ReturnType<typeof createTestEngine>>['engine'], workflowId: string) => Promise<void>): Promise<Recorded> {
  const t = await createTestEngine({ workflows: [definition] });
  try {
    const workflowId = `${definition.type}-1`;
    await drive(t.engine, workflowId);
    await t.engine.result({ workflowId }, { timeoutMs: 5_000 });
    const run = await t.engine.store.getRun((await t.engine.describe({ workflowId })).runId);
    return { history: await t.engine.history({ workflowId }), snapshot: run!.snapshot };
  } finally {
    await t.cleanup();
  }
}

/** Builds a history the way the engine does, from decide() alone: each delivered event, then its commands. */
function historyOf(definition: WorkflowDefinition, delivered: DeliveredEvent[]): HistoryEvent[] {
  const history: HistoryEvent[] = [];
  let snapshot;
  const tracker = new ReplayTracker('wf-1');
  for (const [i, event] of delivered.entries()) {
    const seq = history.length + 1;
    const at = 1_000 * (i + 1);
    const decision = decide(definition, snapshot, event, tracker.contextFor({ ...event, seq, at } as HistoryEvent));
    snapshot = decision.snapshot;
    for (const [k, e] of [event, ...decision.commands].entries()) {
      const recorded = { ...e, seq: seq + k, at } as HistoryEvent;
      history.push(recorded);
      tracker.track(recorded);
    }
  }
  return history;
}

const started = (definition: WorkflowDefinition, input?: unknown): DeliveredEvent =>
  ({ kind: 'WorkflowStarted', type: definition.type, version: definition.version, namespace: 'default', workflowId: 'wf-1', input });

/** The order saga, except that `reserving` now runs a different activity. */
const orderWithOtherReservation = workflow(orderMachine.provide({
  actors: { reserveInventory: activity('reserveStock', { taskQueue: 'orders', startToCloseTimeout: '10s', retry: { initialInterval: '100ms', maximumAttempts: 3 } }) },
}));

/** The approval machine, except that it now waits twice as long before expiring. */
const approvalWithLongerTimeout = workflow(approvalMachine.provide({ delays: { approvalTimeout: ({ context }) => context.timeoutMs * 2 } }));

describe('replayHistory() on histories the engine wrote', () => {
  let order: Recorded;
  let approval: Recorded;
  beforeAll(async () => {
    order = await record(orderWorkflow, async (engine, workflowId) => {
      runWorker(engine, 'orders', orderActivityImplementations());
      await engine.start('order', { workflowId, input: { orderId: 'o-1', amount: 42, items: ['book'] } });
    });
    approval = await record(approvalWorkflow, async (engine, workflowId) => {
      await engine.start('approval', { workflowId, input: { request: 'laptop', timeoutMs: 60_000 } });
      await engine.signal({ workflowId }, { type: 'APPROVE', approver: 'ana' });
    });
  });

  it('replays an unchanged machine to the stored snapshot', () => {
    const result = replayHistory(orderWorkflow, order.history, { storedSnapshot: order.snapshot });
    expect(result).toMatchObject({ ok: true, eventsReplayed: 4 });
    expect(result.divergence).toBeUndefined();
    expect(result.snapshot).toMatchObject({ status: 'done', value: 'shipped', context: { chargeId: 'ch_o-1', trackingId: 'trk_o-1' } });
    expect(replayHistory(approvalWorkflow, approval.history, { storedSnapshot: approval.snapshot }).ok).toBe(true);
  });

  it('reports the first event where a machine that runs another activity diverges', () => {
    const result = replayHistory(orderWithOtherReservation, order.history);
    expect(result.ok).toBe(false);
    expect(result.divergence).toEqual({
      seq: 4, expected: 'ActivityScheduled("reserveInventory" as "reserve")', actual: 'ActivityScheduled("reserveStock" as "reserve")',
    });
    expect(result.eventsReplayed).toBe(2);
  });

  it('reports the timer whose delay changed', () => {
    const result = replayHistory(approvalWithLongerTimeout, approval.history);
    expect(result.divergence).toEqual({
      seq: 3,
      expected: 'TimerStarted("xstate.after.approvalTimeout.approval.waiting", 60000 ms)',
      actual: 'TimerStarted("xstate.after.approvalTimeout.approval.waiting", 120000 ms)',
    });
  });

  it('reports a gap in the history', () => {
    const gapped = order.history.filter((e) => e.seq !== 5);
    expect(replayHistory(orderWorkflow, gapped).divergence).toEqual({ seq: 5, expected: 'event #5', actual: 'history jumps to #6' });
  });

  it('reports a stored snapshot that the history does not lead to', () => {
    const stored = JSON.parse(order.snapshot as string) as { context: { trackingId: string } };
    stored.context.trackingId = 'trk_someone-else';
    const result = replayHistory(orderWorkflow, order.history, { storedSnapshot: JSON.stringify(stored) });
    expect(result.ok).toBe(false);
    expect(result.divergence).toEqual({ seq: order.history.length, expected: 'the stored snapshot', actual: 'a different snapshot after the last event' });
  });

  it('assertReplays throws NONDETERMINISM naming the execution, the machine version, the event and both sides', () => {
    expect(() => assertReplays(orderWorkflow, order.history, { workflowId: 'order-1' })).not.toThrow();
    let thrown: unknown;
    try {
      assertReplays(orderWithOtherReservation, order.history, { workflowId: 'order-1' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NonDeterminismError);
    const error = thrown as NonDeterminismError;
    expect(error.code).toBe('NONDETERMINISM');
    expect(error).toMatchObject({ workflowId: 'order-1', eventSeq: 4 });
    expect(orderWithOtherReservation.version).not.toBe(orderWorkflow.version);
    expect(error.message).toContain(`"order-1" (machine "order"@${orderWithOtherReservation.version})`);
    expect(error.message).toContain('event #4');
    expect(error.message).toContain('history has ActivityScheduled("reserveInventory" as "reserve")');
    expect(error.message).toContain('now produces ActivityScheduled("reserveStock" as "reserve")');
  });
});

describe('replayHistory() on histories built from decide()', () => {
  const step = activity<{ n: number }, { n: number }>('step', { taskQueue: 'q' });
  /** Waits on a timer and works on an activity: XState starts the timer first (entry), then the invoke. */
  const timerAndWork = workflow(setup({ actors: { step } }).createMachine({
    id: 'reminding', initial: 'working',
    states: { working: { invoke: { id: 's', src: 'step', input: { n: 1 }, onDone: 'done' }, after: { 5_000: 'done' } }, done: { type: 'final' } },
  }));
  /** The same machine without the activity. */
  const timerOnly = workflow(setup({ actors: { step } }).createMachine({
    id: 'reminding', initial: 'working',
    states: { working: { after: { 5_000: 'done' } }, done: { type: 'final' } },
  }));
  const history = historyOf(timerAndWork, [started(timerAndWork), { kind: 'ActivityCompleted', activityId: 's', attempt: 1, output: { n: 1 } }]);

  it('replays its own history', () => {
    expect(history.map((e) => e.kind)).toEqual(['WorkflowStarted', 'TimerStarted', 'ActivityScheduled', 'ActivityCompleted', 'TimerCanceled', 'WorkflowCompleted']);
    expect(replayHistory(timerAndWork, history)).toMatchObject({ ok: true, eventsReplayed: 2 });
  });

  it('reports a recorded command that the machine no longer produces', () => {
    expect(replayHistory(timerOnly, history).divergence).toEqual({ seq: 3, expected: 'ActivityScheduled("step" as "s")', actual: 'no command' });
  });

  it('reports a command the machine now produces that the history lacks', () => {
    const older = historyOf(timerOnly, [started(timerOnly)]);
    expect(replayHistory(timerAndWork, older).divergence).toEqual({ seq: 3, expected: 'end of history', actual: 'ActivityScheduled("step" as "s")' });
  });

  it('reports a gap among the commands of one step', () => {
    const gapped = history.filter((e) => e.seq !== 2);
    expect(replayHistory(timerAndWork, gapped).divergence).toEqual({ seq: 2, expected: 'event #2', actual: 'history jumps to #3' });
  });

  it('replays a run that failed on a thrown error: stack traces are not part of the decision', () => {
    const picky = workflow(setup({}).createMachine({
      id: 'picky', initial: 'a', context: ({ input }) => { if (!input) throw new Error('input is required'); return {}; }, states: { a: {} },
    }));
    const failed = historyOf(picky, [started(picky)]);
    expect(failed.at(-1)).toMatchObject({ kind: 'WorkflowFailed', failure: { message: 'input is required', stack: expect.any(String) } });
    expect(replayHistory(picky, failed).ok).toBe(true);
  });

  it('still reports a failure whose message changed', () => {
    const picky = (message: string) => workflow(setup({}).createMachine({
      id: 'picky', initial: 'a', context: ({ input }) => { if (!input) throw new Error(message); return {}; }, states: { a: {} },
    }));
    const failed = historyOf(picky('input is required'), [started(picky('input is required'))]);
    expect(replayHistory(picky('an input, please'), failed).divergence).toMatchObject({ seq: 2, expected: 'WorkflowFailed', actual: 'WorkflowFailed' });
  });
});
