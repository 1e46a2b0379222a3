import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { approvalWorkflow, type ApprovalOutput } from '../../machines/approval.ts';
import type { threeStepWorkflow } from '../../machines/three-step.ts';
import {
  ActivityFailure, ApplicationFailure, CancelledFailure, Client, ConnectionLostError, ExecutionAlreadyStartedError,
  ExecutionClosedError, ExecutionNotFoundError, ForbiddenError, InvalidArgumentError, PerdureError, TerminatedFailure,
  TimeoutError, UnauthorizedError, UpdateRejectedError, WorkflowTypeNotFoundError,
} from '../../src/client/index.ts';
import { WsTransport } from '../../src/client/ws-transport.ts';
import { startRawWorker } from '../helpers/raw-worker.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const approvalInput = (request: string) => ({ request, timeoutMs: 3_600_000 });

/** The code a promise rejects with (and the error, for further checks). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('the client SDK against a server process', () => {
  let server: ServerProcess;
  let client: Client;

  beforeAll(async () => {
    server = await startServerProcess();
    client = await Client.connect({ address: server.wsUrl });
  });
  afterAll(async () => {
    await client?.close();
    await server?.cleanup();
  });

  it('connects with a ws:// URL, an http:// URL or host:port', async () => {
    for (const address of [server.wsUrl, server.url, `127.0.0.1:${server.port}`]) {
      const c = await Client.connect({ address });
      try {
        const types = await c.workflowTypes();
        expect(types.map((t) => t.type)).toEqual(expect.arrayContaining(['approval', 'flaky', 'order', 'threeStep']));
        // The server computes versions from its own build of the machine: a 12-digit content hash.
        expect(types.find((t) => t.type === 'approval')!.versions[0]!.version).toMatch(/^[0-9a-f]{12}$/);
      } finally {
        await c.close();
      }
    }
  });

  it('starts an execution, queries and describes it, signals it, and resolves result() with its output', async () => {
    const handle = await client.start<typeof approvalWorkflow>('approval', { workflowId: 'sdk-approve', input: approvalInput('laptop') });
    expect(handle.workflowId).toBe('sdk-approve');
    expect(handle.runId).toMatch(/^[0-9a-f-]{36}$/);

    const state = await handle.query();
    expect(state).toMatchObject({ status: 'running', value: 'waiting', tags: [], accepts: ['APPROVE', 'REJECT'] });
    expect(state.context).toMatchObject({ request: 'laptop', decision: null });

    const description = await handle.describe();
    expect(description).toMatchObject({
      namespace: 'default', workflowId: 'sdk-approve', runId: handle.runId, type: 'approval', version: expect.stringMatching(/^[0-9a-f]{12}$/),
      status: 'running', state: { value: 'waiting', tags: [] },
    });
    expect(description.pendingTimers).toHaveLength(2);
    expect(description.closedAt).toBeUndefined();

    await handle.signal({ type: 'APPROVE', approver: 'ann' });
    const output = await handle.result();
    expect(output).toMatchObject({ request: 'laptop', decision: 'approved', approver: 'ann' });

    const kinds = (await handle.history()).map((e) => e.kind);
    expect(kinds[0]).toBe('WorkflowStarted');
    expect(kinds).toContain('SignalReceived');
    expect(kinds.at(-1)).toBe('WorkflowCompleted');
    expect((await handle.describe()).status).toBe('completed');
  });

  it('types a handle by its workflow: events, input and output (compile-checked)', async () => {
    const handle = await client.start(approvalWorkflow, { workflowId: 'sdk-typed', input: approvalInput('chair') });
    expectTypeOf(handle.result).returns.resolves.toEqualTypeOf<ApprovalOutput>();
    expectTypeOf(handle.signal).parameter(0).toMatchTypeOf<{ type: 'APPROVE' | 'REJECT' | 'REMIND' }>();

    // @ts-expect-error — 'SHIP' is not an event of the approval machine
    await handle.signal({ type: 'SHIP' });
    // Never called: these only have to fail to compile.
    const wrong = [
      // @ts-expect-error — APPROVE needs its approver
      () => handle.update({ type: 'APPROVE' }),
      // @ts-expect-error — the approval machine's input has no field `amount`
      () => client.start<typeof approvalWorkflow>('approval', { input: { amount: 3 } }),
      // @ts-expect-error — the definition types the input too
      () => client.start(approvalWorkflow, { input: { request: 42, timeoutMs: 1 } }),
    ];
    expect(wrong).toHaveLength(3);
    const threeStep = client.getHandle<typeof threeStepWorkflow>('not-started');
    expectTypeOf(threeStep.result).returns.resolves.toEqualTypeOf<{ n: number }>();

    const state = await handle.update({ type: 'REJECT', approver: 'bob', reason: 'no budget' });
    expect(state).toMatchObject({ status: 'completed', value: 'rejected' });
    const output: ApprovalOutput = await handle.result();
    expect(output.decision).toBe('rejected');
  });

  it('rejects an update the current state does not accept with UpdateRejectedError, recording nothing', async () => {
    const handle = await client.start('approval', { workflowId: 'sdk-update', input: approvalInput('desk') });
    const before = (await handle.history()).length;
    const error = await rejection(handle.update({ type: 'SHIP' }));
    expect(error).toBeInstanceOf(UpdateRejectedError);
    expect(error).toBeInstanceOf(PerdureError);
    expect(error.code).toBe('UPDATE_REJECTED');
    expect(error.message).toMatch(/^UPDATE_REJECTED: execution "sdk-update" does not accept "SHIP"/);
    expect((error as UpdateRejectedError).workflowId).toBe('sdk-update');
    expect((await handle.history()).length).toBe(before);

    const accepted = await handle.update({ type: 'APPROVE', approver: 'ann' });
    expect(accepted).toMatchObject({ status: 'completed', value: 'approved', accepts: [] });
  });

  it('answers errors with the server\'s stable codes, as the same error classes', async () => {
    await client.start('approval', { workflowId: 'sdk-dup', input: approvalInput('x') });
    const duplicate = await rejection(client.start('approval', { workflowId: 'sdk-dup' }));
    expect(duplicate).toBeInstanceOf(ExecutionAlreadyStartedError);
    expect(duplicate.code).toBe('EXECUTION_ALREADY_STARTED');

    const unknownType = await rejection(client.start('nope', {}));
    expect(unknownType).toBeInstanceOf(WorkflowTypeNotFoundError);
    expect(unknownType.message).toContain('"nope"');

    const notFound = await rejection(client.getHandle('sdk-missing').query());
    expect(notFound).toBeInstanceOf(ExecutionNotFoundError);
    expect(notFound).toMatchObject({ code: 'EXECUTION_NOT_FOUND', workflowId: 'sdk-missing', namespace: 'default' });

    const badEvent = await rejection(client.getHandle('sdk-dup').signal({ type: '' }));
    expect(badEvent).toBeInstanceOf(InvalidArgumentError);
    expect(badEvent.message).toContain('event.type');

    const badList = await rejection(client.list({ status: 'sleeping' as never }));
    expect(badList.code).toBe('INVALID_ARGUMENT');
    expect(badList.message).toContain('status');
  });

  it('returns the same run for a repeated start with the same idempotency key', async () => {
    const first = await client.start('approval', { workflowId: 'sdk-idem', idempotencyKey: 'k-1', input: approvalInput('y') });
    const again = await client.start('approval', { workflowId: 'sdk-idem', idempotencyKey: 'k-1', input: approvalInput('y') });
    expect(again.runId).toBe(first.runId);
  });

  it('rejects result() with CancelledFailure after cancel, and with TerminatedFailure naming the reason after terminate', async () => {
    const canceled = await client.start('approval', { workflowId: 'sdk-cancel', input: approvalInput('a') });
    await canceled.cancel('changed my mind');
    const cancelFailure = await rejection(canceled.result());
    expect(cancelFailure).toBeInstanceOf(CancelledFailure);
    expect(cancelFailure.code).toBe('CANCELLED_FAILURE');
    expect((await canceled.query()).status).toBe('canceled');

    const terminated = await client.start('approval', { workflowId: 'sdk-terminate', input: approvalInput('b') });
    await terminated.terminate('operator said so');
    const terminateFailure = await rejection(terminated.result());
    expect(terminateFailure).toBeInstanceOf(TerminatedFailure);
    expect((terminateFailure as TerminatedFailure).reason).toBe('operator said so');

    const closed = await rejection(terminated.signal({ type: 'APPROVE', approver: 'late' }));
    expect(closed).toBeInstanceOf(ExecutionClosedError);
    expect(closed.code).toBe('EXECUTION_CLOSED');
  });

  it('rejects result({ timeoutMs }) with TimeoutError while the execution is still open', async () => {
    const handle = await client.start('approval', { workflowId: 'sdk-wait', input: approvalInput('c') });
    const error = await rejection(handle.result({ timeoutMs: 50 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe('TIMEOUT');
    expect((await handle.query()).status).toBe('running');
  });

  it('resolves result() when the durable timer decides', async () => {
    const handle = await client.start<typeof approvalWorkflow>('approval', { workflowId: 'sdk-timer', input: { request: 'd', timeoutMs: 200 } });
    expect(await handle.result()).toMatchObject({ decision: 'expired', approver: null, reminders: 1 });
  });

  it('lists a namespace\'s executions by page, status and type', async () => {
    await client.namespaces.create('sdk-list');
    const scoped = await Client.connect({ address: server.url, namespace: 'sdk-list' });
    try {
      for (const id of ['l-1', 'l-2', 'l-3']) await scoped.start('approval', { workflowId: id, input: approvalInput(id) });
      await scoped.getHandle('l-2').terminate('done');

      const first = await scoped.list({ limit: 2 });
      expect(first.executions).toHaveLength(2);
      expect(first.nextPageToken).toEqual(expect.any(String));
      const second = await scoped.list({ limit: 2, pageToken: first.nextPageToken });
      expect(second.executions).toHaveLength(1);
      expect(second.nextPageToken).toBeUndefined();
      expect([...first.executions, ...second.executions].map((e) => e.workflowId).sort()).toEqual(['l-1', 'l-2', 'l-3']);

      const terminated = await scoped.list({ status: 'terminated' });
      expect(terminated.executions.map((e) => e.workflowId)).toEqual(['l-2']);
      expect(terminated.executions[0]).toMatchObject({ type: 'approval', status: 'terminated', version: expect.stringMatching(/^[0-9a-f]{12}$/) });
      expect((await scoped.list({ type: 'order' })).executions).toEqual([]);
      // Namespaces are isolated.
      expect((await client.list({ type: 'approval' })).executions.map((e) => e.workflowId)).not.toContain('l-1');
    } finally {
      await scoped.close();
    }
  });

  it('runs a workflow whose activities a worker runs; a non-retryable activity failure rejects result() with ActivityFailure', async () => {
    const worker = await startRawWorker({
      wsUrl: server.wsUrl, taskQueue: 'bench', activityTypes: ['step1', 'step2', 'step3'],
      run: async (task) => (task.input as { n: number }).n < 0
        ? { failure: { code: 'APPLICATION_FAILURE', message: 'negative numbers are not allowed', type: 'Fatal', nonRetryable: true } }
        : { output: { n: (task.input as { n: number }).n + 1 } },
    });
    try {
      const ok = await client.start<typeof threeStepWorkflow>('threeStep', { workflowId: 'sdk-steps', input: { n: 1 } });
      // threeStep passes its context to each step and outputs the context.
      expect(await ok.result()).toEqual({ n: 1 });
      expect((await ok.history()).filter((e) => e.kind === 'ActivityCompleted')).toHaveLength(3);

      const failing = await client.start<typeof threeStepWorkflow>('threeStep', { workflowId: 'sdk-steps-fail', input: { n: -1 } });
      const failure = await rejection(failing.result());
      expect(failure).toBeInstanceOf(ActivityFailure);
      expect((failure as ActivityFailure).activityType).toBe('step1');
      expect(failure.cause).toBeInstanceOf(ApplicationFailure);
      expect(failure.cause).toMatchObject({ type: 'Fatal', nonRetryable: true, message: 'negative numbers are not allowed' });
      expect((await failing.describe()).status).toBe('failed');
    } finally {
      await worker.close();
    }
  });

  it('fails calls after close() instead of hanging', async () => {
    const c = await Client.connect({ address: server.url });
    await c.close();
    const error = await rejection(c.list());
    expect(error).toBeInstanceOf(ConnectionLostError);
  });
});

describe('the client SDK across a server restart', () => {
  it('fails requests in flight with a retryable CONNECTION_LOST, reconnects, and keeps result() waiting', async () => {
    const first = await startServerProcess();
    let server = first;
    const client = await Client.connect({ address: first.url, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } });
    const transport = await WsTransport.open({ url: first.wsUrl, namespace: 'default', maxDelayMs: 300 });
    const impatient = await Client.connect({ address: first.url, reconnect: { waitMs: 100, maxDelayMs: 300 } });
    try {
      const handle = await client.start<typeof approvalWorkflow>('approval', { workflowId: 'restart-1', input: approvalInput('survive') });
      const result = handle.result();
      const inFlight = rejection(transport.call('result', { workflowId: 'restart-1', timeoutMs: 60_000 }));

      await first.kill();
      const lost = await inFlight;
      expect(lost).toBeInstanceOf(ConnectionLostError);
      expect(lost).toMatchObject({ code: 'CONNECTION_LOST', retryable: true, sent: true });

      // While the server is down, a call waits for the connection, then gives up with the same code.
      const unavailable = await rejection(impatient.getHandle('restart-1').query());
      expect(unavailable).toBeInstanceOf(ConnectionLostError);
      expect(unavailable).toMatchObject({ code: 'CONNECTION_LOST', sent: false });

      server = await first.restart();
      // This call waits for the reconnection, then goes out.
      await handle.signal({ type: 'APPROVE', approver: 'after-restart' });
      expect(await result).toMatchObject({ decision: 'approved', approver: 'after-restart' });
      expect(client.connected).toBe(true);
      await vi.waitFor(() => expect(impatient.connected).toBe(true), { timeout: 10_000 });
      expect(await impatient.getHandle('restart-1').query()).toMatchObject({ status: 'completed', value: 'approved' });
    } finally {
      await Promise.all([client.close(), transport.close(), impatient.close()]);
      await server.cleanup();
    }
  });

  it('rejects connect() with CONNECTION_LOST when nothing listens', async () => {
    const server = await startServerProcess();
    const address = server.url;
    await server.cleanup();
    const error = await rejection(Client.connect({ address }));
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('the client SDK against a server with tokens', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({
      tokens: [
        { token: 'client-token-1', namespace: 'default', role: 'client' },
        { token: 'worker-token-1', namespace: 'default', role: 'worker' },
      ],
    });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('is refused with UNAUTHORIZED without a token or with a wrong one', async () => {
    for (const token of [undefined, 'not-a-token-at-all']) {
      const error = await rejection(Client.connect({ address: server.url, token }));
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect(error.code).toBe('UNAUTHORIZED');
    }
  });

  it('is refused with FORBIDDEN for a worker token or another namespace', async () => {
    const worker = await rejection(Client.connect({ address: server.url, token: 'worker-token-1' }));
    expect(worker).toBeInstanceOf(ForbiddenError);
    expect(worker.message).toContain('worker role');
    const otherNamespace = await rejection(Client.connect({ address: server.url, token: 'client-token-1', namespace: 'billing' }));
    expect(otherNamespace.code).toBe('FORBIDDEN');
    expect(otherNamespace.message).toContain('"billing"');
  });

  it('works with a client token for its namespace', async () => {
    const client = await Client.connect({ address: server.url, token: 'client-token-1' });
    try {
      const handle = await client.start('approval', { input: approvalInput('with token') });
      expect((await handle.query()).status).toBe('running');
    } finally {
      await client.close();
    }
  });
});
