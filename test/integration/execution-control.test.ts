import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { approvalWorkflow } from '../../machines/approval.ts';
import { activity, CANCEL_EVENT, workflow } from '../../src/index.ts';
import { createTestEngine, replayHistory, type TestEngine } from '../../src/testing/index.ts';
import { eventually, kinds, runWorker } from '../helpers/engine.ts';

const input = { request: 'r', timeoutMs: 60_000 };

describe('starting, finding and listing executions', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('refuses a second start of an open workflow id, naming the run', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const first = await t.engine.start('approval', { workflowId: 'same', input });
    const error = await t.engine.start('approval', { workflowId: 'same', input }).catch((e) => e);
    expect(error).toMatchObject({ code: 'EXECUTION_ALREADY_STARTED' });
    expect(error.message).toContain(first.runId);
  });

  it('returns the same run for a repeated start with the same idempotency key, even when raced', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const starts = await Promise.all([1, 2, 3].map(() => t.engine.start('approval', { workflowId: 'idem', idempotencyKey: 'k1', input })));
    expect(new Set(starts.map((s) => s.runId)).size).toBe(1);
  });

  it('lets a workflow id be used again once its run has closed', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const first = await t.engine.start('approval', { workflowId: 'again', input });
    await t.engine.terminate({ workflowId: 'again' }, 'done with it');
    const second = await t.engine.start('approval', { workflowId: 'again', input });
    expect(second.runId).not.toBe(first.runId);
    expect((await t.engine.describe({ workflowId: 'again' })).runId).toBe(second.runId);
  });

  it('gives clear errors for unknown types, unknown executions and malformed input', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    await expect(t.engine.start('nope')).rejects.toMatchObject({ code: 'WORKFLOW_TYPE_NOT_FOUND', message: expect.stringContaining('approval') });
    await expect(t.engine.signal({ workflowId: 'ghost' }, { type: 'X' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    await expect(t.engine.start('approval', { workflowId: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const { workflowId } = await t.engine.start('approval', { input });
    await expect(t.engine.signal({ workflowId }, {} as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('event.type') });
    await expect(t.engine.signal({ workflowId }, { type: 'xstate.done.actor.x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(t.engine.result({ workflowId }, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('lists executions newest first, filtered by status', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    for (const id of ['a', 'b', 'c']) await t.engine.start('approval', { workflowId: id, input });
    await t.engine.terminate({ workflowId: 'b' }, 'x');
    const running = await t.engine.list({ status: 'running' });
    expect(running.runs.map((r) => r.workflowId).sort()).toEqual(['a', 'c']);
    const all = await t.engine.list({});
    expect(all.runs.map((r) => r.workflowId)).toHaveLength(3);
    expect((await t.engine.list({ status: 'terminated' })).runs.map((r) => r.workflowId)).toEqual(['b']);
  });

  it('describes an execution: status, version, history length, pending timers', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow] });
    const { workflowId, runId } = await t.engine.start('approval', { input });
    const d = await t.engine.describe({ workflowId });
    expect(d).toMatchObject({ workflowId, runId, type: 'approval', version: approvalWorkflow.version, status: 'running', historyLength: 3 });
    expect(d.pendingTimers.map((p) => p.timerId).sort()).toHaveLength(2);
  });
});

describe('machines that handle their own cancellation, and side effects', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  const undo = activity<{ why: string }, string>('undo', { taskQueue: 'undo' });
  const careful = workflow(setup({ actors: { undo } }).createMachine({
    id: 'careful', initial: 'busy', context: { note: '' },
    states: {
      busy: { on: { [CANCEL_EVENT]: 'undoing' } },
      undoing: {
        invoke: { id: 'undo', src: 'undo', input: ({ event }) => ({ why: (event as { reason?: string }).reason ?? '' }), onDone: { target: 'undone', actions: assign({ note: ({ event }) => event.output }) } },
      },
      undone: { type: 'final' },
    },
    output: ({ context }) => context,
  }));

  it('delivers cancellation as perdure.cancel to a machine that handles it, which may run compensation', async () => {
    t = await createTestEngine({ workflows: [careful] });
    runWorker(t.engine, 'undo', { undo: async ({ why }: { why: string }) => `undone because ${why}` });
    const { workflowId } = await t.engine.start('careful');
    await t.engine.cancel({ workflowId }, 'customer left');
    expect(await t.engine.result({ workflowId })).toMatchObject({ status: 'completed', output: { note: 'undone because customer left' } });
    const history = await t.engine.history({ workflowId });
    expect(replayHistory(careful, history).ok).toBe(true);
  });

  it('runs inline side-effect actions after the commit', async () => {
    const seen: string[] = [];
    const wf = workflow(setup({}).createMachine({
      id: 'effects', initial: 'a',
      states: { a: { on: { GO: { target: 'b', actions: () => seen.push('went') } } }, b: { type: 'final' } },
    }));
    t = await createTestEngine({ workflows: [wf] });
    const { workflowId } = await t.engine.start('effects');
    await t.engine.signal({ workflowId }, { type: 'GO' });
    await eventually(() => (seen.length ? true : undefined));
    expect(seen).toEqual(['went']);
    expect(kinds(await t.engine.history({ workflowId }))).toEqual(['WorkflowStarted', 'SignalReceived', 'WorkflowCompleted']);
  });
});
