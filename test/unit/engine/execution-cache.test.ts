import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { workflow } from '../../../src/definition/workflow.ts';
import { withShard, type ShardHarness } from '../../helpers/shard-harness.ts';

// The execution cache of one shard, over a real LevelStore on the test clock: loads, passivation,
// waiters for a run's close, and what a lost shard does to them.

const waiting = workflow(setup({
  types: {} as { context: { n: number }; events: { type: 'FINISH' } | { type: 'BOOM' } },
}).createMachine({
  id: 'waiting', context: { n: 0 }, initial: 'open',
  states: {
    open: {
      on: {
        FINISH: 'done',
        BOOM: { actions: assign(() => { throw new Error('machine code failed'); }) },
      },
    },
    done: { type: 'final' },
  },
  output: () => ({ finished: true }),
}));

const IDLE_MS = 10_000;
const timeout = () => new Error('waited too long');

function start(h: ShardHarness, workflowId: string) {
  return h.shard.starter.start(waiting, 'default', workflowId, {});
}

describe('ExecutionCache', () => {
  it('reads a run from the store once when many load it at the same time, and gives them one execution', () => withShard({ workflows: [waiting] }, async (h) => {
    const { runId } = await start(h, 'w-1');
    h.shard.executions.dropAll(new Error('forget it'));
    expect(h.shard.executions.peek(runId)).toBeUndefined();
    const before = h.calls.get('getRun') ?? 0;
    const loaded = await Promise.all([1, 2, 3, 4, 5].map(() => h.shard.executions.load(runId)));
    expect(h.calls.get('getRun')! - before).toBe(1);
    expect(new Set(loaded).size).toBe(1);
    expect(loaded[0]).toBe(h.shard.executions.peek(runId));
    expect(loaded[0]!.run).toMatchObject({ runId, status: 'running' });
  }));

  it('passivates an execution idle for longer than idleEvictMs, and loads it again on its next event', () => withShard({ workflows: [waiting], idleEvictMs: IDLE_MS }, async (h) => {
    const { runId } = await start(h, 'w-1');
    await h.clock.advance(IDLE_MS);
    h.shard.executions.evictIdle();
    expect(h.shard.executions.peek(runId)).toBeDefined();
    await h.clock.advance(1);
    h.shard.executions.evictIdle();
    expect(h.shard.executions.peek(runId)).toBeUndefined();
    await (await h.shard.executions.load(runId))!.signal({ type: 'FINISH' });
    expect(await h.store.getRun(runId)).toMatchObject({ status: 'completed' });
  }));

  it('keeps an idle execution that a caller waits on, and lets it go once the wait times out', () => withShard({ workflows: [waiting], idleEvictMs: IDLE_MS }, async (h) => {
    const { runId } = await start(h, 'w-1');
    const waited = h.shard.executions.waitForClose(runId, 3 * IDLE_MS, timeout);
    waited.catch(() => {});
    await h.clock.advance(2 * IDLE_MS);
    h.shard.executions.evictIdle();
    expect(h.shard.executions.peek(runId)).toBeDefined();
    await h.clock.advance(IDLE_MS);
    await expect(waited).rejects.toThrow('waited too long');
    h.shard.executions.evictIdle();
    expect(h.shard.executions.peek(runId)).toBeUndefined();
  }));

  it('keeps a blocked execution in memory however long it is idle, so it goes on reporting why', () => withShard({ workflows: [waiting], idleEvictMs: IDLE_MS }, async (h) => {
    const { runId } = await start(h, 'w-1');
    const execution = h.shard.executions.peek(runId)!;
    await expect(execution.signal({ type: 'BOOM' })).rejects.toMatchObject({ code: 'MACHINE_CODE_FAILED' });
    expect(execution.blocked).toBeDefined();
    await h.clock.advance(10 * IDLE_MS);
    h.shard.executions.evictIdle();
    expect(h.shard.executions.peek(runId)).toBe(execution);
    expect(await h.shard.executions.record(runId)).toMatchObject({ status: 'blocked' });
  }));

  it('resolves a waiter when the run closes, with its result, and forgets the closed execution', () => withShard({ workflows: [waiting] }, async (h) => {
    const { runId } = await start(h, 'w-1');
    const waited = h.shard.executions.waitForClose(runId, 60_000, timeout);
    await h.shard.executions.peek(runId)!.signal({ type: 'FINISH' });
    await expect(waited).resolves.toMatchObject({ status: 'completed', output: { finished: true } });
    expect(h.shard.executions.peek(runId)).toBeUndefined();
    expect(h.clock.pending).toBe(0); // the waiter's timeout was cleared
  }));

  it('resolves a waiter on a run that closed before the wait began, from the store', () => withShard({ workflows: [waiting] }, async (h) => {
    const { runId } = await start(h, 'w-1');
    await h.shard.executions.peek(runId)!.signal({ type: 'FINISH' });
    await expect(h.shard.executions.waitForClose(runId, 60_000, timeout)).resolves.toMatchObject({ status: 'completed' });
  }));

  it('rejects a waiter whose timeout passes on the clock before the run closes', () => withShard({ workflows: [waiting] }, async (h) => {
    const { runId } = await start(h, 'w-1');
    let settled = false;
    const waited = h.shard.executions.waitForClose(runId, 5_000, timeout).finally(() => { settled = true; });
    waited.catch(() => {});
    await h.clock.advance(4_999);
    expect(settled).toBe(false);
    await h.clock.advance(1);
    await expect(waited).rejects.toThrow('waited too long');
  }));

  it('rejects every waiter and forgets every execution when the shard is dropped', () => withShard({ workflows: [waiting] }, async (h) => {
    const a = await start(h, 'w-a');
    const b = await start(h, 'w-b');
    const waits = [h.shard.executions.waitForClose(a.runId, undefined, timeout), h.shard.executions.waitForClose(b.runId, 60_000, timeout)];
    const lost = Object.assign(new Error('shard lost'), { code: 'SHARD_NOT_HELD' });
    h.shard.executions.dropAll(lost);
    for (const waited of waits) await expect(waited).rejects.toBe(lost);
    expect(h.shard.executions.loadedRunIds()).toEqual([]);
    expect(h.shard.executions.openByWorkflow('default', 'w-a')).toBeUndefined();
    expect(h.clock.pending).toBe(0);
  }));
});
