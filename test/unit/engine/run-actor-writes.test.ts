import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { approvalWorkflow } from '../../../machines/approval.ts';
import { systemClock } from '../../../src/common/clock.ts';
import { planReset } from '../../../src/engine/core/reset.ts';
import { WorkflowRegistry } from '../../../src/engine/core/registry.ts';
import { DEFAULT_HISTORY_LIMITS } from '../../../src/engine/core/history-limits.ts';
import { DEFAULT_STEP_LIMITS } from '../../../src/engine/core/step-budget.ts';
import { ExecutionCache } from '../../../src/engine/runtime/execution-cache.ts';
import type { Store } from '../../../src/store/store.ts';
import { fixtureRun, startRun, T0 } from '../../../src/testing/store-fixtures.ts';
import type { HistoryFixture } from '../../../scripts/record-histories.ts';
import { withTempLevelStore } from '../../helpers/temp-store.ts';

const ENGINE = new URL('../../../src/engine/', import.meta.url);

/** A file's code without its comments, so that prose naming `.commit(` is not taken for a call. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function cacheOn(store: Store): ExecutionCache {
  return new ExecutionCache(store, new WorkflowRegistry([approvalWorkflow]), systemClock, {
    afterCommit: () => {}, stepStopped: () => {}, historyLimits: DEFAULT_HISTORY_LIMITS, maxPayloadBytes: 1 << 20, stepLimits: DEFAULT_STEP_LIMITS,
  }, 60_000);
}

describe('the engine\'s write path', () => {
  // Issue 13, "one write path": every commit of a run is made by its actor, through the shard's
  // view of the store, which stamps the fence (shard, epoch): so no second writer of a run, and
  // no commit without the fence, can appear unnoticed.
  it('commits to the store in one place only: RunActor.write, through the shard view that stamps the fence', async () => {
    const calls: string[] = [];
    const entries = await readdir(ENGINE, { withFileTypes: true, recursive: true });
    for (const entry of entries.filter((e) => e.isFile() && e.name.endsWith('.ts'))) {
      const file = join(entry.parentPath, entry.name);
      const lines = code(await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (/\.commit\s*\(/.test(line) || /\[\s*['"`]commit['"`]\s*\]/.test(line)) calls.push(`${relative(ENGINE.pathname, file)}:${i + 1}`);
      });
    }
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/^runtime\/run-actor\.ts:\d+$/);
    expect(calls[1]).toMatch(/^runtime\/shard-store\.ts:\d+$/);
  });

  it('removes done outbox items of a closed run one removal at a time, so that none comes back', async () => {
    await withTempLevelStore(async (store) => {
      const item = (id: string) => ({ id, dueAt: T0, kind: 'notifyParent' as const });
      const run = await startRun(store, fixtureRun('closed-1', { closedAt: T0 + 1, outbox: { a: item('a'), b: item('b'), c: item('c') } }), 1, { status: 'completed' });
      const cache = cacheOn(store);
      await Promise.all([cache.settleClosedOutbox(run.runId, ['a']), cache.settleClosedOutbox(run.runId, ['b']), cache.settleClosedOutbox(run.runId, ['a'])]);
      expect(Object.keys((await store.getRun(run.runId))!.outbox ?? {})).toEqual(['c']);
    });
  });

  it('refuses to remove outbox items of an open run that is not loaded: the item is tried again', async () => {
    await withTempLevelStore(async (store) => {
      const run = await startRun(store, fixtureRun('open-1', { outbox: { a: { id: 'a', dueAt: T0, kind: 'notifyParent' } } }));
      await expect(cacheOn(store).settleClosedOutbox(run.runId, ['a'])).rejects.toMatchObject({ code: 'INTERNAL' });
      expect(Object.keys((await store.getRun(run.runId))!.outbox ?? {})).toEqual(['a']);
    });
  });

  it('makes a reset\'s new run through its own execution, which then holds the committed run and its state', async () => {
    const fixture = JSON.parse(await readFile(new URL('../../replay/histories/approval-approved.json', import.meta.url), 'utf8')) as HistoryFixture;
    const from = fixtureRun('old-run', { type: approvalWorkflow.type, version: approvalWorkflow.version, status: 'completed' });
    const plan = planReset(approvalWorkflow, from, fixture.history, { eventSeq: 1, reason: 'test', newRunId: 'new-run', now: T0 });
    if (!('commit' in plan)) throw new Error('the fixture no longer replays');
    await withTempLevelStore(async (store) => {
      const cache = cacheOn(store);
      const execution = await cache.createFrom(plan.commit, approvalWorkflow);
      expect(cache.peek('new-run')).toBe(execution);
      expect((await store.getRun('new-run'))!.lastSeq).toBe(plan.commit.run.lastSeq);
      expect(execution.run.lastSeq).toBe(plan.commit.run.lastSeq);
      expect(execution.query().value).toBe('waiting');
    });
  });

  it('leaves nothing of a reset\'s new run when the store refuses its commit', async () => {
    await withTempLevelStore(async (store) => {
      const cache = cacheOn(store);
      const run = { ...fixtureRun('refused-run'), lastSeq: 2 };
      // Events that do not start at #1: no store takes this as a run's first commit.
      const events = [{ seq: 2, at: T0, kind: 'SignalReceived' as const, event: { type: 'X' } }];
      await expect(cache.createFrom({ run, previousLastSeq: 0, events }, approvalWorkflow)).rejects.toBeDefined();
      expect(cache.peek('refused-run')).toBeUndefined();
      expect(await store.getRun('refused-run')).toBeUndefined();
    });
  });
});
