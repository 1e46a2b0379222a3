import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { childWorkflow } from '../../../src/definition/child-workflow.ts';
import { workflow } from '../../../src/definition/workflow.ts';
import type { TimerEntry } from '../../../src/store/store.ts';
import { withShard, type ShardHarness } from '../../helpers/shard-harness.ts';

// The outbox of one shard over a real LevelStore, its durable timer service stopped: the test
// fires each item from the store's timer index itself, as the timer service would after a crash.

const kid = workflow(setup({ types: {} as { events: { type: 'FINISH' } } }).createMachine({
  id: 'kid', initial: 'open',
  states: { open: { on: { FINISH: 'done' } }, done: { type: 'final' } },
  output: () => ({ grown: true }),
}));

const parent = workflow(setup({
  actors: { kid: childWorkflow<{ name: string }, { grown: boolean }>('kid', { workflowId: (input) => `kid-${input.name}`, parentClosePolicy: 'abandon' }) },
}).createMachine({
  id: 'parent', initial: 'raising',
  states: {
    raising: { invoke: { id: 'k', src: 'kid', input: { name: 'ann' }, onDone: 'raised', onError: 'failed' } },
    raised: { type: 'final' },
    failed: { type: 'final' },
  },
}));

async function outboxEntries(h: ShardHarness, runId: string): Promise<TimerEntry[]> {
  return (await h.store.listDueTimers(Number.MAX_SAFE_INTEGER, 1000)).filter((e) => e.runId === runId && e.kind === 'outbox');
}

async function startParent(h: ShardHarness) {
  const { runId } = await h.shard.starter.start(parent, 'default', 'p-1', {});
  const run = (await h.store.getRun(runId))!;
  const child = run.children!.k!;
  expect(child).toMatchObject({ workflowId: 'kid-ann', started: false });
  const [entry] = await outboxEntries(h, runId);
  expect(entry).toMatchObject({ kind: 'outbox' });
  expect(run.outbox?.[entry!.id]).toMatchObject({ kind: 'startChild', childId: 'k' });
  return { runId, child, entry: entry! };
}

describe('Outbox', () => {
  it('starts a child once, and after a crash that left the child made but not recorded, records that run instead of failing', () => withShard({ workflows: [parent, kid], timers: false }, async (h) => {
    const { runId, child, entry } = await startParent(h);
    // The crash: the child's run was committed, the parent never heard of it.
    await h.runtimes.startChild((await h.store.getRun(runId))!, child);
    const made = await h.store.getRun(child.runId);
    expect(made).toMatchObject({ workflowId: 'kid-ann', status: 'running' });

    await h.shard.outbox.fire(entry);
    await h.shard.outbox.fire(entry); // the index entry fired again: nothing more happens
    const after = (await h.store.getRun(runId))!;
    expect(after.status).toBe('running');
    expect(after.children!.k).toMatchObject({ runId: child.runId, started: true });
    expect(after.outbox ?? {}).toEqual({});
    expect(await outboxEntries(h, runId)).toEqual([]);
    expect(await h.store.getRun(child.runId)).toEqual(made);
    const runsOfKid = await h.store.listRuns({ namespace: 'default', type: 'kid' });
    expect(runsOfKid.runs.map((r) => r.runId)).toEqual([child.runId]);
  }));

  it('settles a closed child\'s notice to a parent that has closed meanwhile, with a commit that adds no event', () => withShard({ workflows: [parent, kid], timers: false }, async (h) => {
    const { runId, child, entry } = await startParent(h);
    await h.shard.outbox.fire(entry);
    await h.shard.executions.peek(runId)!.terminate('operator');
    const kidExecution = (await h.shard.executions.load(child.runId))!;
    await kidExecution.signal({ type: 'FINISH' });
    const closedKid = (await h.store.getRun(child.runId))!;
    expect(closedKid.status).toBe('completed');
    const [notice] = await outboxEntries(h, child.runId);
    expect(closedKid.outbox?.[notice!.id]).toMatchObject({ kind: 'notifyParent' });
    const history = await h.store.readHistory(child.runId);

    await expect(h.shard.outbox.fire(notice!)).resolves.toBeUndefined();
    const settled = (await h.store.getRun(child.runId))!;
    expect(settled).toMatchObject({ status: 'completed', lastSeq: closedKid.lastSeq, output: { grown: true } });
    expect(settled.outbox ?? {}).toEqual({});
    expect(await outboxEntries(h, child.runId)).toEqual([]);
    expect(await h.store.readHistory(child.runId)).toEqual(history);
    expect(await h.store.getRun(runId)).toMatchObject({ status: 'terminated' });
  }));

  it('tells an open parent that its child closed, and the parent goes on', () => withShard({ workflows: [parent, kid], timers: false }, async (h) => {
    const { runId, child, entry } = await startParent(h);
    await h.shard.outbox.fire(entry);
    await (await h.shard.executions.load(child.runId))!.signal({ type: 'FINISH' });
    const [notice] = await outboxEntries(h, child.runId);
    await h.shard.outbox.fire(notice!);
    expect(await h.store.getRun(runId)).toMatchObject({ status: 'completed' });
    expect((await h.store.getRun(child.runId))!.outbox ?? {}).toEqual({});
    expect(await outboxEntries(h, child.runId)).toEqual([]);
  }));
});
