import { perdure as runPerdure } from '../helpers/cli.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { approvalWorkflow } from '../../machines/approval.ts';
import { Client, ExecutionAlreadyStartedError, WorkflowIdReuseRejectedError } from '../../src/client/index.ts';
import { workflow } from '../../src/index.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const input = { request: 'r', timeoutMs: 3_600_000 };

/** A throwing step fails its run (the default blocks it: docs/workflow-isolation.md). */
const FAIL_ON_THROW = { onStepFailure: 'fail' } as const;

/** Collects MSG events; FAIL makes its step throw (an assign runs in the pure step), so the run ends Failed. */
const inboxWorkflow = workflow(setup({
  types: {} as { context: { messages: string[] }; events: { type: 'MSG'; text: string } | { type: 'FAIL' } },
}).createMachine({
  id: 'inbox',
  context: { messages: [] },
  on: {
    MSG: { actions: assign({ messages: ({ context, event }) => [...context.messages, event.text] }) },
    FAIL: { actions: assign(() => { throw new Error('told to fail'); }) },
  },
}));

/** The history kinds the machine saw (commands and records left out). */
const DELIVERED = new Set(['WorkflowStarted', 'SignalReceived', 'UpdateAccepted', 'TimerFired', 'ActivityCompleted', 'ActivityFailed', 'CancelRequested']);

describe('start policies and signal-with-start on the engine', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  const engine = () => t.engine;
  const runsOf = async (workflowId: string) => (await engine().list({ limit: 1000 })).runs.filter((r) => r.workflowId === workflowId);

  /** Closes the run of `workflowId` with `status`. */
  async function close(workflowId: string, status: 'completed' | 'failed' | 'canceled' | 'terminated'): Promise<void> {
    const ref = { workflowId };
    if (status === 'completed') await engine().signal(ref, { type: 'APPROVE', approver: 'ann' });
    if (status === 'failed') await engine().signal(ref, { type: 'FAIL' });
    if (status === 'canceled') await engine().cancel(ref, 'no longer needed');
    if (status === 'terminated') await engine().terminate(ref, 'stop');
    expect((await engine().describe(ref)).status).toBe(status);
  }

  describe('id reuse policy, when the latest run of the id is closed', () => {
    it('allows a new run by default, whatever the old one ended as', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const first = await engine().start('approval', { workflowId: 'reuse', input });
      await close('reuse', 'completed');
      const second = await engine().start('approval', { workflowId: 'reuse', input });
      expect(second).toMatchObject({ started: true });
      expect(second.runId).not.toBe(first.runId);
      expect((await engine().describe({ workflowId: 'reuse' })).runId).toBe(second.runId);
    });

    it.each(['failed', 'canceled', 'terminated'] as const)('allowIfFailed allows a new run after a %s one', async (status) => {
      t = await createTestEngine({ workflows: [approvalWorkflow, inboxWorkflow], stepLimits: FAIL_ON_THROW });
      const type = status === 'failed' ? 'inbox' : 'approval';
      const first = await engine().start(type, { workflowId: 'aif', input });
      await close('aif', status);
      const second = await engine().start(type, { workflowId: 'aif', input, idReusePolicy: 'allowIfFailed' });
      expect(second.runId).not.toBe(first.runId);
      expect((await engine().describe({ workflowId: 'aif' })).status).toBe('running');
    });

    it('allowIfFailed refuses a new run after a completed one, naming the run and its status', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const first = await engine().start('approval', { workflowId: 'done', input });
      await close('done', 'completed');
      const error = await engine().start('approval', { workflowId: 'done', input, idReusePolicy: 'allowIfFailed' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowIdReuseRejectedError);
      expect(error).toMatchObject({ code: 'WORKFLOW_ID_REUSE_REJECTED', runId: first.runId, status: 'completed' });
      expect((error as Error).message).toContain('"done"');
      expect((error as Error).message).toContain('allowIfFailed');
      expect(await runsOf('done')).toHaveLength(1);
    });

    it('reject refuses a new run after any closed one, and leaves the old run current', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const first = await engine().start('approval', { workflowId: 'once', input });
      await close('once', 'terminated');
      await expect(engine().start('approval', { workflowId: 'once', input, idReusePolicy: 'reject' }))
        .rejects.toMatchObject({ code: 'WORKFLOW_ID_REUSE_REJECTED', status: 'terminated' });
      expect((await engine().describe({ workflowId: 'once' })).runId).toBe(first.runId);
    });

    it('does not matter for an id that has never been used, nor for an open run', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const fresh = await engine().start('approval', { workflowId: 'fresh', input, idReusePolicy: 'reject' });
      expect(fresh.started).toBe(true);
      await expect(engine().start('approval', { workflowId: 'fresh', input, idReusePolicy: 'reject' }))
        .rejects.toMatchObject({ code: 'EXECUTION_ALREADY_STARTED' });
    });
  });

  describe('conflict policy, when the id has an open run', () => {
    it('fail (the default) refuses with EXECUTION_ALREADY_STARTED naming the open run', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const first = await engine().start('approval', { workflowId: 'busy', input });
      const error = await engine().start('approval', { workflowId: 'busy', input, conflictPolicy: 'fail' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExecutionAlreadyStartedError);
      expect((error as Error).message).toContain(first.runId);
    });

    it('useExisting returns the open run, started: false, and starts nothing', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const first = await engine().start('approval', { workflowId: 'use', input });
      const again = await engine().start('approval', { workflowId: 'use', input: { request: 'other', timeoutMs: 1000 }, conflictPolicy: 'useExisting' });
      expect(again).toEqual({ namespace: 'default', workflowId: 'use', runId: first.runId, started: false });
      expect(await runsOf('use')).toHaveLength(1);
      expect((await engine().query({ workflowId: 'use' })).context).toMatchObject({ request: 'r' });
    });

    it('terminateExisting terminates the open run with a reason naming the new run, then starts', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const first = await engine().start('approval', { workflowId: 'swap', input });
      const second = await engine().start('approval', { workflowId: 'swap', input, conflictPolicy: 'terminateExisting' });
      expect(second.started).toBe(true);
      expect(second.runId).not.toBe(first.runId);
      const runs = await runsOf('swap');
      expect(runs.find((r) => r.runId === first.runId)?.status).toBe('terminated');
      expect(runs.find((r) => r.runId === second.runId)?.status).toBe('running');
      const old = (await t.engine.store.readHistory(first.runId)).at(-1)!;
      expect(old).toMatchObject({ kind: 'WorkflowTerminated', reason: expect.stringContaining(second.runId) });
      expect((old as { reason: string }).reason).toContain('terminateExisting');
    });

    it('terminateExisting starts raced with each other leave exactly one open run', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      await engine().start('approval', { workflowId: 'race-t', input });
      const starts = await Promise.all([1, 2, 3].map(() => engine().start('approval', { workflowId: 'race-t', input, conflictPolicy: 'terminateExisting' })));
      const runs = await runsOf('race-t');
      expect(runs.filter((r) => r.status === 'running').map((r) => r.runId)).toEqual([starts[2]!.runId]);
      expect(runs.filter((r) => r.status === 'terminated')).toHaveLength(3);
    });
  });

  describe('idempotency keys come before the policies', () => {
    it('a repeated key returns its run, even with terminateExisting, and terminates nothing', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const first = await engine().start('approval', { workflowId: 'idem', input, idempotencyKey: 'k1' });
      const again = await engine().start('approval', { workflowId: 'idem', input, idempotencyKey: 'k1', conflictPolicy: 'terminateExisting' });
      expect(again).toEqual({ ...first, started: true });
      expect((await engine().describe({ workflowId: 'idem' })).status).toBe('running');
    });

    it('a repeated key returns its closed run instead of refusing under reject', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const first = await engine().start('approval', { workflowId: 'idem-closed', input, idempotencyKey: 'k2' });
      await close('idem-closed', 'completed');
      const again = await engine().start('approval', { workflowId: 'idem-closed', input, idempotencyKey: 'k2', idReusePolicy: 'reject' });
      expect(again.runId).toBe(first.runId);
    });
  });

  describe('signal-with-start', () => {
    it('signals the open run of the id and starts nothing', async () => {
      t = await createTestEngine({ workflows: [inboxWorkflow] });
      const first = await engine().start('inbox', { workflowId: 'box' });
      const result = await engine().signalWithStart('inbox', { workflowId: 'box', event: { type: 'MSG', text: 'hello' } });
      expect(result).toEqual({ namespace: 'default', workflowId: 'box', runId: first.runId, started: false });
      expect((await engine().query({ workflowId: 'box' })).context).toEqual({ messages: ['hello'] });
      expect(await runsOf('box')).toHaveLength(1);
    });

    it('starts a run when none is open and delivers the signal as its first event after the start', async () => {
      t = await createTestEngine({ workflows: [approvalWorkflow] });
      const result = await engine().signalWithStart('approval', { workflowId: 'sws', input, event: { type: 'APPROVE', approver: 'ann' } });
      expect(result.started).toBe(true);
      const history = await engine().history({ workflowId: 'sws' });
      expect(history.map((e) => e.kind).filter((k) => DELIVERED.has(k))).toEqual(['WorkflowStarted', 'SignalReceived']);
      expect(history.find((e) => e.kind === 'SignalReceived')).toMatchObject({ event: { type: 'APPROVE', approver: 'ann' } });
      expect(await engine().result({ workflowId: 'sws' })).toMatchObject({ status: 'completed', output: { decision: 'approved', approver: 'ann' } });
    });

    it('starts a new run after a closed one by default, and refuses under reject', async () => {
      t = await createTestEngine({ workflows: [inboxWorkflow] });
      const first = await engine().signalWithStart('inbox', { workflowId: 'closed', event: { type: 'MSG', text: 'a' } });
      await engine().terminate({ workflowId: 'closed' }, 'stop');
      await expect(engine().signalWithStart('inbox', { workflowId: 'closed', event: { type: 'MSG', text: 'b' }, idReusePolicy: 'reject' }))
        .rejects.toMatchObject({ code: 'WORKFLOW_ID_REUSE_REJECTED', runId: first.runId });
      expect(await runsOf('closed')).toHaveLength(1);
      const second = await engine().signalWithStart('inbox', { workflowId: 'closed', event: { type: 'MSG', text: 'c' } });
      expect(second).toMatchObject({ started: true });
      expect((await engine().query({ workflowId: 'closed' })).context).toEqual({ messages: ['c'] });
    });

    it('two racing signal-with-starts make one run that receives both signals', async () => {
      t = await createTestEngine({ workflows: [inboxWorkflow] });
      const results = await Promise.all(['a', 'b'].map((text) => engine().signalWithStart('inbox', { workflowId: 'race', event: { type: 'MSG', text } })));
      expect(new Set(results.map((r) => r.runId)).size).toBe(1);
      expect(results.map((r) => r.started).sort()).toEqual([false, true]);
      expect(await runsOf('race')).toHaveLength(1);
      const history = await engine().history({ workflowId: 'race' });
      expect(history.filter((e) => e.kind === 'SignalReceived').map((e) => (e as unknown as { event: { text: string } }).event.text).sort()).toEqual(['a', 'b']);
    });

    it('is not lost when a plain start races it: whichever wins, the one run gets the signal', async () => {
      t = await createTestEngine({ workflows: [inboxWorkflow] });
      const [started, signalled] = await Promise.allSettled([
        engine().start('inbox', { workflowId: 'mixed' }),
        engine().signalWithStart('inbox', { workflowId: 'mixed', event: { type: 'MSG', text: 'kept' } }),
      ]);
      expect(signalled.status).toBe('fulfilled');
      if (started.status === 'rejected') expect(started.reason).toMatchObject({ code: 'EXECUTION_ALREADY_STARTED' });
      expect(await runsOf('mixed')).toHaveLength(1);
      expect((await engine().query({ workflowId: 'mixed' })).context).toEqual({ messages: ['kept'] });
    });

    it('with terminateExisting replaces the open run; with fail refuses it', async () => {
      t = await createTestEngine({ workflows: [inboxWorkflow] });
      const first = await engine().start('inbox', { workflowId: 'policy' });
      await expect(engine().signalWithStart('inbox', { workflowId: 'policy', event: { type: 'MSG', text: 'x' }, conflictPolicy: 'fail' }))
        .rejects.toMatchObject({ code: 'EXECUTION_ALREADY_STARTED' });
      const second = await engine().signalWithStart('inbox', { workflowId: 'policy', event: { type: 'MSG', text: 'y' }, conflictPolicy: 'terminateExisting' });
      expect(second.runId).not.toBe(first.runId);
      expect((await t.engine.store.getRun(first.runId))?.status).toBe('terminated');
      expect((await engine().query({ workflowId: 'policy' })).context).toEqual({ messages: ['y'] });
    });

    it('survives a restart: the start and its signal are both durable', async () => {
      t = await createTestEngine({ workflows: [inboxWorkflow] });
      await engine().signalWithStart('inbox', { workflowId: 'durable', event: { type: 'MSG', text: 'saved' } });
      await t.restart();
      expect((await engine().query({ workflowId: 'durable' })).context).toEqual({ messages: ['saved'] });
    });

    it('refuses a missing workflow id or a malformed event with INVALID_ARGUMENT', async () => {
      t = await createTestEngine({ workflows: [inboxWorkflow] });
      await expect(engine().signalWithStart('inbox', { event: { type: 'MSG' } } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(engine().signalWithStart('inbox', { workflowId: 'bad', event: { type: '' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await runsOf('bad')).toHaveLength(0);
    });
  });
});

describe('start policies and signal-with-start over a server process', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  const WF = '/api/v1/namespaces/default/workflows';
  async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  }

  it('HTTP: signal-with-start answers 201 when it started the run, 200 when it signalled the open one; start takes the policies', async () => {
    const started = await post(`${WF}/h-sws/signal-with-start`, { type: 'approval', input, event: { type: 'REMIND' } });
    expect(started).toEqual({ status: 201, body: { workflowId: 'h-sws', runId: expect.any(String), started: true } });
    const signalled = await post(`${WF}/h-sws/signal-with-start`, { type: 'approval', event: { type: 'APPROVE', approver: 'ann' } });
    expect(signalled).toEqual({ status: 200, body: { workflowId: 'h-sws', runId: started.body.runId, started: false } });
    const result = await (await fetch(`${server.url}${WF}/h-sws/result?wait=10s`)).json();
    expect(result).toMatchObject({ status: 'completed', output: { decision: 'approved', approver: 'ann' } });

    const refused = await post(WF, { type: 'approval', workflowId: 'h-sws', input, idReusePolicy: 'allowIfFailed' });
    expect(refused).toMatchObject({ status: 409, body: { code: 'WORKFLOW_ID_REUSE_REJECTED' } });
    const again = await post(WF, { type: 'approval', workflowId: 'h-sws', input });
    expect(again.status).toBe(201);
    const existing = await post(WF, { type: 'approval', workflowId: 'h-sws', input, conflictPolicy: 'useExisting' });
    expect(existing).toEqual({ status: 200, body: { workflowId: 'h-sws', runId: again.body.runId } });
    const badPolicy = await post(WF, { type: 'approval', workflowId: 'h-sws', conflictPolicy: 'sometimes' });
    expect(badPolicy).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('conflictPolicy') } });
    const noEvent = await post(`${WF}/h-sws/signal-with-start`, { type: 'approval' });
    expect(noEvent).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('event') } });
  });

  it('client SDK: signalWithStart returns a handle on the run it signalled; start takes the policies', async () => {
    const client = await Client.connect({ address: server.wsUrl });
    try {
      const handle = await client.signalWithStart<typeof approvalWorkflow>('approval', {
        workflowId: 'c-sws', input, event: { type: 'APPROVE', approver: 'bob' },
      });
      expect(handle.runId).toEqual(expect.any(String));
      expect(await handle.result()).toMatchObject({ decision: 'approved', approver: 'bob' });

      await expect(client.start('approval', { workflowId: 'c-sws', input, idReusePolicy: 'reject' })).rejects.toBeInstanceOf(WorkflowIdReuseRejectedError);
      const open = await client.start('approval', { workflowId: 'c-sws', input });
      const same = await client.start('approval', { workflowId: 'c-sws', input, conflictPolicy: 'useExisting' });
      expect(same.runId).toBe(open.runId);
      const replaced = await client.start('approval', { workflowId: 'c-sws', input, conflictPolicy: 'terminateExisting' });
      expect(replaced.runId).not.toBe(open.runId);
      expect((await replaced.describe()).status).toBe('running');
    } finally {
      await client.close();
    }
  });

  it('CLI: workflow signal-with-start and start --conflict-policy', async () => {
    const perdure = (args: string[]) => runPerdure([...args, '--address', server.url]);
    const first = await perdure(['workflow', 'signal-with-start', 'approval', 'cli-sws', 'REMIND', '--input', JSON.stringify(input), '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ workflowId: 'cli-sws', started: true });
    const second = await perdure(['workflow', 'signal-with-start', 'approval', 'cli-sws', 'APPROVE', '--data', '{"approver":"cy"}']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('Signalled APPROVE to cli-sws');
    const rejected = await perdure(['workflow', 'start', 'approval', '--id', 'cli-sws', '--id-reuse-policy', 'reject']);
    expect(rejected.code).not.toBe(0);
    expect(rejected.stderr).toContain('WORKFLOW_ID_REUSE_REJECTED');
    const started = await perdure(['workflow', 'start', 'approval', '--id', 'cli-sws', '--input', JSON.stringify(input), '--conflict-policy', 'useExisting']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain('Started approval execution cli-sws');
    const existing = await perdure(['workflow', 'start', 'approval', '--id', 'cli-sws', '--conflict-policy', 'useExisting']);
    expect(existing.stdout).toContain('Already running: approval execution cli-sws');
  });
});
