import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { childWorkflow, workflow } from '../../src/index.ts';
import { replayHistory } from '../../src/engine/core/replay.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';
import { brittleWorkflow, bystanderWorkflow, pickyWorkflow, spinnerWorkflow } from '../fixtures/misbehaving-machines.ts';
import { kinds } from '../helpers/engine.ts';

/** Starts a picky child with an input its context factory refuses. */
const pickyParentWorkflow = workflow(setup({ actors: { kid: childWorkflow<{ ok: boolean }>('picky') } }).createMachine({
  id: 'pickyParent', initial: 'waiting', states: { waiting: { invoke: { id: 'kid', src: 'kid', input: { ok: false } } } },
}));
const workflows = [spinnerWorkflow, brittleWorkflow, pickyWorkflow, bystanderWorkflow, pickyParentWorkflow];
/**
 * The loop must meet the microstep limit, not the time budget, however busy the machine running
 * the tests is: the time budget has its own tests on a fake clock (test/unit/engine).
 */
const timeBudgetMs = 600_000;

/** The bystander: another execution, started and completed while the bad one is blocked. */
async function serveBystander(t: TestEngine, workflowId: string): Promise<void> {
  await t.engine.start('bystander', { workflowId });
  await t.engine.signal({ workflowId }, { type: 'FINISH' });
  expect(await t.engine.result({ workflowId })).toMatchObject({ status: 'completed' });
}

describe('a machine step that does not end, or whose code throws (engine)', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('stops an eventless loop, commits nothing of the step, and reports the run blocked with the state and the limit', async () => {
    t = await createTestEngine({ workflows, stepLimits: { timeBudgetMs } });
    await t.engine.start('spinner', { workflowId: 'spin-1' });
    await expect(t.engine.signal({ workflowId: 'spin-1' }, { type: 'GO' })).rejects.toMatchObject({
      code: 'MICROSTEP_LIMIT_EXCEEDED', message: expect.stringMatching(/execution "spin-1" .*stopped at state "spin2?".*more than 10000 microsteps \(limit maxMicrosteps\).*blocked/s),
    });
    expect(kinds(await t.engine.history({ workflowId: 'spin-1' }))).toEqual(['WorkflowStarted']);
    const blocked = await t.engine.describe({ workflowId: 'spin-1' });
    expect(blocked).toMatchObject({ status: 'blocked', blockedReason: expect.stringContaining('MICROSTEP_LIMIT_EXCEEDED') });
    expect(await t.engine.query({ workflowId: 'spin-1' })).toMatchObject({ status: 'blocked', value: 'idle', context: { n: 0 } });

    // Every later machine event is refused the same way, without running the machine again.
    await expect(t.engine.signal({ workflowId: 'spin-1' }, { type: 'STOP' })).rejects.toMatchObject({ code: 'MICROSTEP_LIMIT_EXCEEDED' });
    await serveBystander(t, 'other-1');

    await t.engine.terminate({ workflowId: 'spin-1' }, 'operator: machine loops');
    expect(await t.engine.result({ workflowId: 'spin-1' })).toMatchObject({ status: 'terminated' });
  });

  it('blocks a run whose guard throws with MACHINE_CODE_FAILED, and a restart lifts the block at the last committed state', async () => {
    t = await createTestEngine({ workflows });
    await t.engine.start('brittle', { workflowId: 'b-1' });
    await expect(t.engine.signal({ workflowId: 'b-1' }, { type: 'GO' })).rejects.toMatchObject({
      code: 'MACHINE_CODE_FAILED', message: expect.stringMatching(/stopped at state "idle".*the ready guard exploded/s),
    });
    expect(await t.engine.describe({ workflowId: 'b-1' })).toMatchObject({ status: 'blocked', blockedReason: expect.stringContaining('guard exploded') });
    await serveBystander(t, 'other-2');

    // The block lives in memory only: after a restart the run is where its last commit left it.
    await t.restart({ workflows });
    expect(await t.engine.describe({ workflowId: 'b-1' })).toMatchObject({ status: 'running', historyLength: 1 });
    await t.engine.signal({ workflowId: 'b-1' }, { type: 'STOP' });
    expect(await t.engine.result({ workflowId: 'b-1' })).toMatchObject({ status: 'completed' });
  });

  it('under onStepFailure "fail", fails the run with the coded reason, and replay reproduces it', async () => {
    t = await createTestEngine({ workflows, stepLimits: { onStepFailure: 'fail', timeBudgetMs } });
    await t.engine.start('spinner', { workflowId: 'spin-2' });
    await t.engine.signal({ workflowId: 'spin-2' }, { type: 'GO' });
    const result = await t.engine.result({ workflowId: 'spin-2' });
    expect(result).toMatchObject({ status: 'failed', failure: { type: 'MICROSTEP_LIMIT_EXCEEDED', nonRetryable: true, message: expect.stringContaining('maxMicrosteps') } });
    const history = await t.engine.history({ workflowId: 'spin-2' });
    expect(kinds(history)).toEqual(['WorkflowStarted', 'SignalReceived', 'WorkflowFailed']);
    expect(replayHistory(spinnerWorkflow, history).ok).toBe(true);
  });

  it('refuses a start whose first step throws: no run is made, and the workflow id stays free', async () => {
    t = await createTestEngine({ workflows });
    await expect(t.engine.start('picky', { workflowId: 'p-1', input: { ok: false } })).rejects.toMatchObject({
      code: 'MACHINE_CODE_FAILED', message: expect.stringContaining('the run was not started'),
    });
    await expect(t.engine.describe({ workflowId: 'p-1' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    await t.engine.start('picky', { workflowId: 'p-1', input: { ok: true } });
    expect(await t.engine.describe({ workflowId: 'p-1' })).toMatchObject({ status: 'running' });
  });

  it('delivers a child whose first step is refused to its parent as the child\'s failure', async () => {
    t = await createTestEngine({ workflows });
    await t.engine.start('pickyParent', { workflowId: 'pp-1' });
    expect(await t.engine.result({ workflowId: 'pp-1' }, { timeoutMs: 10_000 })).toMatchObject({
      status: 'failed', failure: { code: 'CHILD_WORKFLOW_FAILURE', cause: { type: 'MachineStepError', message: expect.stringContaining('input.ok is required') } },
    });
    expect((await t.engine.list({ type: 'picky' })).runs).toEqual([]);
  });

  it('under onStepFailure "fail", fails a run whose first step throws instead of refusing its start', async () => {
    t = await createTestEngine({ workflows, stepLimits: { onStepFailure: 'fail' } });
    await t.engine.start('picky', { workflowId: 'p-2', input: { ok: false } });
    expect(await t.engine.result({ workflowId: 'p-2' })).toMatchObject({ status: 'failed', failure: { message: expect.stringContaining('input.ok is required') } });
  });

  it('applies a lower microstep limit from the engine options', async () => {
    t = await createTestEngine({ workflows, stepLimits: { maxMicrosteps: 50, timeBudgetMs } });
    await t.engine.start('spinner', { workflowId: 'spin-3' });
    await expect(t.engine.signal({ workflowId: 'spin-3' }, { type: 'GO' })).rejects.toMatchObject({
      code: 'MICROSTEP_LIMIT_EXCEEDED', message: expect.stringContaining('more than 50 microsteps'),
    });
  });
});
