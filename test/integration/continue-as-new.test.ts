import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { counterWorkflow } from '../../machines/counter.ts';
import { childWorkflow, workflow } from '../../src/index.ts';
import { assertReplays } from '../../src/engine/core/replay.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';
import { eventually, kinds } from '../helpers/engine.ts';

describe('continue-as-new', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  /** Sends ADD 1 `n` times; one sent while a run hands over to its successor goes to the successor. */
  async function add(workflowId: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await t.engine.signal({ workflowId }, { type: 'ADD', amount: 1 });
  }

  it('hands over to a fresh run of the same workflow id with the new input; result follows the chain', async () => {
    t = await createTestEngine({ workflows: [counterWorkflow] });
    const first = await t.engine.start('counter', { workflowId: 'c-1', input: { rollAt: 10 } });
    await add('c-1', 25);
    await t.engine.signal({ workflowId: 'c-1' }, { type: 'FINISH' });

    // A result() asked of the first run follows the chain to its end.
    expect(await t.engine.result({ workflowId: 'c-1' }, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed', output: { total: 25 } });
    const runs = (await t.engine.list({ limit: 100 })).runs.filter((r) => r.workflowId === 'c-1').reverse();
    // rollAt 10: a run takes ADDs as events #2–#10, then continues as new (#11): 9 + 9 + 7.
    expect(runs.map((r) => r.status)).toEqual(['continuedAsNew', 'continuedAsNew', 'completed']);
    expect(runs[0]!.runId).toBe(first.runId);

    const firstRun = (await t.engine.store.getRun(first.runId))!;
    expect(firstRun.continuedAs).toBe(runs[1]!.runId);
    const firstHistory = await t.engine.store.readHistory(first.runId);
    expect(firstHistory.at(-1)).toMatchObject({ kind: 'WorkflowContinuedAsNew', input: { total: 9, rollAt: 10 } });
    expect(firstHistory).toHaveLength(11);
    const second = (await t.engine.store.getRun(runs[1]!.runId))!;
    expect(second.continuedFrom).toBe(first.runId);
    expect((await t.engine.store.readHistory(second.runId))[0]).toMatchObject({ kind: 'WorkflowStarted', input: { total: 9, rollAt: 10 } });
    for (const run of runs) {
      const stored = (await t.engine.store.getRun(run.runId))!;
      assertReplays(counterWorkflow, await t.engine.store.readHistory(run.runId), { storedSnapshot: stored.snapshot });
    }

    // Each run of the chain can be read by its run id; a run named explicitly is not followed.
    const firstRef = { workflowId: 'c-1', runId: first.runId };
    expect(await t.engine.describe(firstRef)).toMatchObject({ runId: first.runId, status: 'continuedAsNew', continuedAs: runs[1]!.runId });
    expect(await t.engine.history(firstRef)).toEqual(firstHistory);
    expect((await t.engine.describe({ workflowId: 'c-1' })).runId).toBe(runs[2]!.runId);
    await expect(t.engine.signal(firstRef, { type: 'ADD', amount: 1 })).rejects.toMatchObject({ code: 'EXECUTION_CLOSED' });
    await t.engine.start('counter', { workflowId: 'other' });
    await expect(t.engine.describe({ workflowId: 'other', runId: first.runId })).rejects.toMatchObject({
      code: 'EXECUTION_NOT_FOUND', message: expect.stringMatching(/no execution "other" with run "[0-9a-f-]+"/),
    });
  });

  it('a child that continues as new is still its parent\'s child: the parent gets the last run\'s output', async () => {
    const parent = workflow(setup({ actors: { counter: childWorkflow<{ rollAt: number }, { total: number }>('counter') } }).createMachine({
      id: 'tally', initial: 'counting',
      states: { counting: { invoke: { id: 'counter', src: 'counter', input: { rollAt: 6 }, onDone: 'done' } }, done: { type: 'final' } },
      output: ({ event }) => (event as { output?: unknown }).output,
    }));
    t = await createTestEngine({ workflows: [parent, counterWorkflow] });
    await t.engine.start('tally', { workflowId: 'tally-1' });
    // The child is made by the parent's outbox, after the parent's start has returned.
    await eventually(async () => ((await t.engine.list()).runs.some((r) => r.workflowId === 'tally-1/counter' && r.status === 'running') ? true : undefined));
    await add('tally-1/counter', 12);
    await t.engine.signal({ workflowId: 'tally-1/counter' }, { type: 'FINISH' });

    expect(await t.engine.result({ workflowId: 'tally-1' }, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed' });
    expect(kinds(await t.engine.history({ workflowId: 'tally-1' }))).toEqual([
      'WorkflowStarted', 'ChildWorkflowScheduled', 'ChildWorkflowStarted', 'ChildWorkflowCompleted', 'WorkflowCompleted',
    ]);
    const completed = (await t.engine.history({ workflowId: 'tally-1' })).find((e) => e.kind === 'ChildWorkflowCompleted');
    expect(completed).toMatchObject({ output: { total: 12 } });
  });
});

describe('calls that meet a run handing over to its successor', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  const chainOf = async (workflowId: string) => (await t.engine.list({ limit: 100 })).runs.filter((r) => r.workflowId === workflowId).reverse();

  it('applies signals sent concurrently across hand-overs, refusing none: they go to the successor', async () => {
    t = await createTestEngine({ workflows: [counterWorkflow] });
    await t.engine.start('counter', { workflowId: 'busy', input: { rollAt: 4 } });
    const sent = await Promise.allSettled(Array.from({ length: 30 }, () => t.engine.signal({ workflowId: 'busy' }, { type: 'ADD', amount: 1 })));
    expect(sent.filter((s) => s.status === 'rejected')).toEqual([]);
    await t.engine.signal({ workflowId: 'busy' }, { type: 'FINISH' });
    expect(await t.engine.result({ workflowId: 'busy' }, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed', output: { total: 30 } });
    expect((await chainOf('busy')).length).toBeGreaterThan(5);
  });

  it('signalWithStart during a hand-over signals the successor: it does not start a new run and cut the chain', async () => {
    t = await createTestEngine({ workflows: [counterWorkflow] });
    const started: boolean[] = [];
    for (let i = 0; i < 12; i++) {
      started.push((await t.engine.signalWithStart('counter', { workflowId: 'sws', input: { rollAt: 4 }, event: { type: 'ADD', amount: 1 } })).started);
    }
    expect(started).toEqual([true, ...Array(11).fill(false)]);
    await t.engine.signal({ workflowId: 'sws' }, { type: 'FINISH' });
    expect(await t.engine.result({ workflowId: 'sws' }, { timeoutMs: 5_000 })).toMatchObject({ status: 'completed', output: { total: 12 } });
    const chain = await chainOf('sws');
    // rollAt 4: three ADDs a run; the fifth run takes FINISH.
    expect(chain.map((r) => r.status)).toEqual(['continuedAsNew', 'continuedAsNew', 'continuedAsNew', 'continuedAsNew', 'completed']);
    for (const [i, run] of chain.entries()) {
      expect((await t.engine.store.getRun(run.runId))!.continuedFrom).toBe(chain[i - 1]?.runId);
    }
  });

  it('a start during a hand-over finds the chain open', async () => {
    t = await createTestEngine({ workflows: [counterWorkflow] });
    await t.engine.start('counter', { workflowId: 'taken', input: { rollAt: 2 } });
    await t.engine.signal({ workflowId: 'taken' }, { type: 'ADD', amount: 5 }); // continues as new
    await expect(t.engine.start('counter', { workflowId: 'taken', input: { rollAt: 2 } })).rejects.toMatchObject({ code: 'EXECUTION_ALREADY_STARTED' });
    const chain = await chainOf('taken');
    expect(chain.map((r) => r.status)).toEqual(['continuedAsNew', 'running']);
    expect((await t.engine.query({ workflowId: 'taken' })).context).toMatchObject({ total: 5 });
  });
});

describe('history limits', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('gives the machine the history size on every event, warns once at warnEvents, and terminates past maxEvents', async () => {
    const warnings: { workflowId: string; lastSeq: number }[] = [];
    t = await createTestEngine({
      workflows: [counterWorkflow],
      historyLimits: { warnEvents: 5, maxEvents: 12 },
      observer: { committed: () => {}, historyWarning: (run) => warnings.push({ workflowId: run.workflowId, lastSeq: run.lastSeq }) },
    });
    await t.engine.start('counter', { workflowId: 'long', input: { rollAt: 1_000 } });
    // Event #13 passes the limit: its step is recorded, then the run is terminated.
    for (let i = 0; i < 12; i++) await t.engine.signal({ workflowId: 'long' }, { type: 'ADD', amount: 1 });
    await expect(t.engine.signal({ workflowId: 'long' }, { type: 'ADD', amount: 1 })).rejects.toMatchObject({ code: 'EXECUTION_CLOSED' });

    const result = await t.engine.result({ workflowId: 'long' });
    expect(result).toMatchObject({ status: 'terminated', failure: { code: 'HISTORY_LIMIT_EXCEEDED', message: expect.stringMatching(/13 events, more than the limit of 12/) } });
    expect(warnings).toEqual([{ workflowId: 'long', lastSeq: 5 }]);
    const history = await t.engine.history({ workflowId: 'long' });
    expect(history.at(-1)).toMatchObject({ kind: 'WorkflowTerminated', code: 'HISTORY_LIMIT_EXCEEDED' });
    // What the machine saw: each ADD carried the length and size of the history before it.
    const described = await t.engine.describe({ workflowId: 'long' });
    expect(described.historyBytes).toBe(history.reduce((sum, e) => sum + JSON.stringify(e).length, 0));
    assertReplays(counterWorkflow, history.slice(0, -1));
  });

  it('terminates a run whose history outgrows maxBytes', async () => {
    t = await createTestEngine({ workflows: [counterWorkflow], historyLimits: { maxBytes: 2_000 } });
    await t.engine.start('counter', { workflowId: 'fat', input: { rollAt: 1_000 } });
    await t.engine.signal({ workflowId: 'fat' }, { type: 'ADD', amount: 1, note: 'x'.repeat(3_000) });
    expect(await t.engine.result({ workflowId: 'fat' })).toMatchObject({ status: 'terminated', failure: { code: 'HISTORY_LIMIT_EXCEEDED', message: expect.stringMatching(/bytes, more than the limit of 2000/) } });
  });
});
