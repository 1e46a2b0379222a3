import { afterEach, describe, expect, it, vi } from 'vitest';
import { approvalWorkflow } from '../../machines/approval.ts';
import { NamespaceNotFoundError } from '../../src/common/errors.ts';
import { DEFAULT_RETENTION_MS } from '../../src/common/namespaces.ts';
import type { Engine } from '../../src/engine/engine.ts';
import type { SweepReport } from '../../src/engine/runtime/retention-sweeper.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/test-engine.ts';
import { createTestEnvironment } from '../../src/testing/test-environment.ts';
import { flakyActivities, flakyWorkflow } from '../../machines/flaky.ts';
import type { TestClock } from '../../src/testing/test-clock.ts';

// Retention on a real LevelDB store, with virtual time: closed runs older than their
// namespace's retention are deleted, and nothing else is.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2030, 0, 1);
const waiting = (request: string) => ({ request, timeoutMs: 365 * DAY });

let t: TestEngine<TestClock> | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function testEngine(retention: { sweepEveryMs?: number; onSweep?(report: SweepReport): void } = { sweepEveryMs: 0 }): Promise<TestEngine<TestClock>> {
  t = await createTestEngine({ workflows: [approvalWorkflow], timeSkipping: true, startAt: T0, retention });
  return t;
}

/** Starts an approval in `namespace` and approves it at once: a run closed now. */
async function closedRun(engine: Engine, namespace: string, workflowId: string): Promise<string> {
  const { runId } = await engine.start('approval', { namespace, workflowId, input: waiting(workflowId), idempotencyKey: `key-${workflowId}` });
  await engine.signal({ namespace, workflowId }, { type: 'APPROVE', approver: 'ann' });
  expect((await engine.result({ namespace, workflowId })).status).toBe('completed');
  return runId;
}

describe('retention', () => {
  it('deletes only closed runs older than their namespace\'s retention, with their history, listing and pointers', async () => {
    const { engine, skip } = await testEngine();
    await engine.namespaces.create({ name: 'short', retention: '1d' });

    const expiredRunId = await closedRun(engine, 'short', 'expired');
    // the same workflow id: a run that closed, then a run that is still open
    const reusedRunId = await closedRun(engine, 'short', 'reused');
    const open = await engine.start('approval', { namespace: 'short', workflowId: 'reused', input: waiting('open') });
    await closedRun(engine, 'default', 'default-old');
    await skip('20h');
    await closedRun(engine, 'short', 'recent');
    await skip('5h'); // 25 h after the first runs closed, 5 h after "recent" closed

    const report = await engine.retention.sweepNow();
    expect(report).toMatchObject({ deleted: 2, byNamespace: { short: 2 } });
    expect(report.error).toBeUndefined();

    // the expired runs are gone: record, history, listing, pointers
    await expect(engine.describe({ namespace: 'short', workflowId: 'expired' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    await expect(engine.history({ namespace: 'short', workflowId: 'expired' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    expect(await engine.store.getRun(expiredRunId)).toBeUndefined();
    expect(await engine.store.readHistory(expiredRunId)).toEqual([]);
    expect(await engine.store.readHistory(reusedRunId)).toEqual([]);
    expect(await engine.store.findRunByIdempotencyKey('short', 'key-expired')).toBeUndefined();
    const listed = (await engine.list({ namespace: 'short' })).runs.map((r) => r.workflowId).sort();
    expect(listed).toEqual(['recent', 'reused']);
    expect(await engine.count({ namespace: 'short', status: 'completed' })).toEqual({ count: 1 });

    // the open run of the reused workflow id, the recent run and the other namespace's run are kept
    expect(await engine.describe({ namespace: 'short', workflowId: 'reused' })).toMatchObject({ runId: open.runId, status: 'running' });
    expect((await engine.query({ namespace: 'short', workflowId: 'reused' })).value).toBe('waiting');
    expect(await engine.describe({ namespace: 'short', workflowId: 'recent' })).toMatchObject({ status: 'completed' });
    expect(await engine.describe({ namespace: 'default', workflowId: 'default-old' })).toMatchObject({ status: 'completed' });

    // the open run still takes signals and closes normally
    await engine.signal({ namespace: 'short', workflowId: 'reused' }, { type: 'APPROVE', approver: 'bo' });
    expect(await engine.result({ namespace: 'short', workflowId: 'reused' })).toMatchObject({ status: 'completed' });

    // a workflow id freed by retention can be started again, even with the old idempotency key
    const again = await engine.start('approval', { namespace: 'short', workflowId: 'expired', input: waiting('again'), idempotencyKey: 'key-expired' });
    expect(again.runId).not.toBe(expiredRunId);
    expect(await engine.retention.sweepNow()).toMatchObject({ deleted: 0 });
    expect(await engine.describe({ namespace: 'short', workflowId: 'expired' })).toMatchObject({ runId: again.runId, status: 'running' });
  });

  it('keeps namespaces, deletions and the close-time index across a restart', async () => {
    const t = await testEngine();
    await t.engine.namespaces.create({ name: 'short', description: 'kept a day', retention: '1d' });
    const oldRunId = await closedRun(t.engine, 'short', 'old');
    await t.skip('12h');
    await closedRun(t.engine, 'short', 'young');
    await t.skip('13h');
    expect(await t.engine.retention.sweepNow()).toMatchObject({ deleted: 1 });

    const engine = await t.restart();
    expect(engine.namespaces.require('short')).toMatchObject({ description: 'kept a day', retention: DAY });
    expect(engine.namespaces.require('default').retention).toBe(DEFAULT_RETENTION_MS);
    expect(await engine.store.getRun(oldRunId)).toBeUndefined();
    await expect(engine.describe({ namespace: 'short', workflowId: 'old' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    expect(await engine.describe({ namespace: 'short', workflowId: 'young' })).toMatchObject({ status: 'completed' });

    // "young" closed before the restart: the index written then finds it once it expires
    await t.skip('12h');
    expect(await engine.retention.sweepNow()).toMatchObject({ deleted: 1, byNamespace: { short: 1 } });
    await expect(engine.describe({ namespace: 'short', workflowId: 'young' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
  });

  it('applies a shortened retention to runs closed before the change', async () => {
    const { engine, skip } = await testEngine();
    await closedRun(engine, 'default', 'a');
    await skip('2d');
    expect(await engine.retention.sweepNow()).toMatchObject({ deleted: 0 });
    await engine.namespaces.update('default', { retention: '1d' });
    expect(await engine.retention.sweepNow()).toMatchObject({ deleted: 1, byNamespace: { default: 1 } });
    await expect(engine.describe({ workflowId: 'a' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
  });

  it('deletes in batches until every expired run is gone', async () => {
    t = await createTestEngine({ workflows: [approvalWorkflow], timeSkipping: true, startAt: T0, retention: { sweepEveryMs: 0, batchSize: 3 } });
    const { engine, skip } = t;
    await engine.namespaces.create({ name: 'short', retention: '1h' });
    for (let i = 0; i < 10; i++) await closedRun(engine, 'short', `r-${i}`);
    await skip('2h');
    expect(await engine.retention.sweepNow()).toMatchObject({ deleted: 10 });
    expect((await engine.list({ namespace: 'short' })).runs).toEqual([]);
  });

  it('sweeps in the background at its interval', async () => {
    const reports: SweepReport[] = [];
    const { engine, skip } = await testEngine({ sweepEveryMs: 20, onSweep: (r) => reports.push(r) });
    await engine.namespaces.create({ name: 'short', retention: '1h' });
    await closedRun(engine, 'short', 'bg');
    await skip('2h');
    await vi.waitFor(() => expect(reports.some((r) => r.deleted === 1)).toBe(true), { timeout: 10_000 });
    await expect(engine.describe({ namespace: 'short', workflowId: 'bg' })).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
  });
});

describe('namespaces in the engine', () => {
  it('refuses every call in a namespace that was not created, saying how to create it', async () => {
    const { engine } = await testEngine();
    const ref = { namespace: 'ghost', workflowId: 'w' };
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['start', () => engine.start('approval', { namespace: 'ghost', input: waiting('x') })],
      ['signalWithStart', () => engine.signalWithStart('approval', { ...ref, event: { type: 'APPROVE', approver: 'a' } })],
      ['signal', () => engine.signal(ref, { type: 'APPROVE', approver: 'a' })],
      ['describe', () => engine.describe(ref)],
      ['list', () => engine.list({ namespace: 'ghost' })],
      ['count', () => engine.count({ namespace: 'ghost' })],
      ['openSession', async () => engine.openSession({ namespace: 'ghost', taskQueue: 'q', activityTypes: ['a'], slots: 1 }, { onTask() {}, onCancel() {} })],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error, name).toBeInstanceOf(NamespaceNotFoundError);
      expect((error as Error).message, name).toMatch(/^NAMESPACE_NOT_FOUND: namespace "ghost" does not exist\. Create it first: `perdure namespace create ghost`/);
    }
    await engine.namespaces.create({ name: 'ghost' });
    expect((await engine.start('approval', { namespace: 'ghost', input: waiting('now') })).started).toBe(true);
  });

  it('makes the namespace a test environment\'s worker names, and runs activities there', async () => {
    const env = await createTestEnvironment({
      workflows: [flakyWorkflow], timeSkipping: true, workers: [{ namespace: 'kit-ns', taskQueue: 'flaky', activities: flakyActivities }],
    });
    try {
      expect(env.engine.namespaces.require('kit-ns').name).toBe('kit-ns');
      const { workflowId } = await env.engine.start('flaky', { namespace: 'kit-ns', input: { key: 'k', failTimes: 1 } });
      expect((await env.engine.result({ namespace: 'kit-ns', workflowId })).output).toMatchObject({ attempts: 2 });
      await env.restart();
      expect(env.engine.namespaces.has('kit-ns')).toBe(true);
    } finally {
      await env.cleanup();
    }
  });

  it('validates names, retentions and duplicates', async () => {
    const { engine } = await testEngine();
    const refused = async (call: Promise<unknown>) => call.then(() => undefined, (e: { code: string; message: string }) => e);
    expect(await refused(engine.namespaces.create({ name: 'has space' }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('letters, digits') });
    expect(await refused(engine.namespaces.create({ name: '*' }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refused(engine.namespaces.create({ name: 'x', retention: '0s' }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('retention') });
    expect(await refused(engine.namespaces.create({ name: 'x', retention: 'forever' }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refused(engine.namespaces.create({ name: 'default' }))).toMatchObject({ code: 'NAMESPACE_ALREADY_EXISTS' });
    expect(await refused(engine.namespaces.update('nope', { retention: '1d' }))).toMatchObject({ code: 'NAMESPACE_NOT_FOUND' });
    // two creates of one name at once: one wins
    const results = await Promise.allSettled([engine.namespaces.create({ name: 'twin' }), engine.namespaces.create({ name: 'twin' })]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(engine.namespaces.list().map((n) => n.name)).toEqual(['default', 'twin']);
  });
});
