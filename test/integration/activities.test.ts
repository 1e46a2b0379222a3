import { afterEach, describe, expect, it } from 'vitest';
import { assign, fromPromise, setup } from 'xstate';
import { flakyActivities, flakyWorkflow } from '../../machines/flaky.ts';
import { activity, workflow, type ActivityOptions } from '../../src/index.ts';
import { createTestEngine, type TestEngine } from '../../src/testing/index.ts';
import { eventually, kinds, runWorker } from '../helpers/engine.ts';

/** A one-activity machine whose activity options the test chooses; it reports how the activity ended. */
function single(options: ActivityOptions, id = 'single') {
  const work = activity<{ ms: number }, string>('work', { taskQueue: 'q', ...options });
  return workflow(setup({ actors: { work } }).createMachine({
    id, initial: 'working', context: { error: null as unknown, output: null as unknown },
    states: {
      working: {
        invoke: {
          id: 'w', src: 'work', input: { ms: 0 },
          onDone: { target: 'done', actions: assign({ output: ({ event }) => event.output }) },
          onError: { target: 'done', actions: assign({ error: ({ event }) => JSON.parse(JSON.stringify(event.error)) }) },
        },
        on: { LEAVE: 'done' },
      },
      done: { type: 'final' },
    },
    output: ({ context }) => context,
  }));
}

describe('activities: retries, timeouts, cancellation', () => {
  let t: TestEngine;
  afterEach(() => t.cleanup());

  it('retries a failing activity with backoff until it answers', async () => {
    t = await createTestEngine({ workflows: [flakyWorkflow] });
    runWorker(t.engine, 'flaky', flakyActivities);
    const { workflowId } = await t.engine.start('flaky', { input: { key: 'k', failTimes: 2 } });
    expect((await t.engine.result({ workflowId })).output).toEqual({ answer: 'answer-for-k', attempts: 3, error: null });
    const history = await t.engine.history({ workflowId });
    const retries = history.filter((e) => e.kind === 'ActivityAttemptFailed');
    expect(retries.map((e) => e.kind === 'ActivityAttemptFailed' && e.nextAttemptAt - e.at)).toEqual([50, 100]);
  });

  it('stops after maximumAttempts and hands the machine the last cause', async () => {
    t = await createTestEngine({ workflows: [flakyWorkflow] });
    runWorker(t.engine, 'flaky', flakyActivities);
    const { workflowId } = await t.engine.start('flaky', { input: { key: 'k', failTimes: 99 } });
    const output = (await t.engine.result({ workflowId })).output as { error: { retryState: string; cause: { message: string } } };
    expect(output.error).toMatchObject({ code: 'ACTIVITY_FAILURE', retryState: 'maximumAttemptsReached', cause: { message: 'service unavailable (attempt 5)' } });
  });

  it('does not retry a failure type listed as non-retryable', async () => {
    t = await createTestEngine({ workflows: [flakyWorkflow] });
    runWorker(t.engine, 'flaky', flakyActivities);
    const { workflowId } = await t.engine.start('flaky', { input: { key: 'k', failTimes: 0, fatal: true } });
    const output = (await t.engine.result({ workflowId })).output as { error: unknown };
    expect(output.error).toMatchObject({ retryState: 'nonRetryableFailure', cause: { type: 'Fatal' } });
    expect(kinds(await t.engine.history({ workflowId }))).not.toContain('ActivityAttemptFailed');
  });

  it('times out an attempt that runs past startToClose, aborts it, and retries', async () => {
    const wf = single({ startToCloseTimeout: 100, retry: { initialInterval: 10, maximumAttempts: 2 } });
    t = await createTestEngine({ workflows: [wf] });
    const aborted: number[] = [];
    runWorker(t.engine, 'q', {
      work: (_input, ctx) => new Promise((resolve) => {
        if (ctx.info.attempt === 2) return resolve('second time lucky');
        ctx.signal.addEventListener('abort', () => aborted.push(ctx.info.attempt));
      }),
    });
    const { workflowId } = await t.engine.start('single');
    expect((await t.engine.result({ workflowId })).output).toMatchObject({ output: 'second time lucky' });
    // The abort reaches the worker as a cancel message, on its own way there: wait for it.
    await eventually(() => (aborted.length ? true : undefined));
    expect(aborted).toEqual([1]);
    const failed = (await t.engine.history({ workflowId })).find((e) => e.kind === 'ActivityAttemptFailed');
    expect(failed).toMatchObject({ failure: { code: 'TIMEOUT_FAILURE', timeoutType: 'startToClose' } });
  });

  it('times out an attempt whose heartbeats stop, and gives the next attempt the last details', async () => {
    const wf = single({ heartbeatTimeout: 100, retry: { initialInterval: 10, maximumAttempts: 2 } });
    t = await createTestEngine({ workflows: [wf] });
    runWorker(t.engine, 'q', {
      work: (_input, ctx) => new Promise((resolve) => {
        if (ctx.info.attempt === 2) return resolve(`resumed from ${JSON.stringify(ctx.info.heartbeatDetails)}`);
        ctx.heartbeat({ page: 7 }); // then silence
      }),
    });
    const { workflowId } = await t.engine.start('single');
    expect((await t.engine.result({ workflowId })).output).toMatchObject({ output: 'resumed from {"page":7}' });
  });

  it('fails the activity when no worker takes it within scheduleToStart', async () => {
    const wf = single({ scheduleToStartTimeout: 100 });
    t = await createTestEngine({ workflows: [wf] });
    const { workflowId } = await t.engine.start('single');
    expect((await t.engine.result({ workflowId })).output).toMatchObject({
      error: { code: 'ACTIVITY_FAILURE', retryState: 'timeout', cause: { code: 'TIMEOUT_FAILURE', timeoutType: 'scheduleToStart' } },
    });
  });

  it('cancels a running activity when its state is exited: the worker sees its AbortSignal fire', async () => {
    const wf = single({});
    t = await createTestEngine({ workflows: [wf] });
    let abortedReason: string | undefined;
    let started = false;
    runWorker(t.engine, 'q', {
      work: (_input, ctx) => new Promise((_resolve, reject) => {
        started = true;
        ctx.signal.addEventListener('abort', () => {
          abortedReason = String(ctx.signal.reason);
          reject(new Error('aborted'));
        });
      }),
    });
    const { workflowId } = await t.engine.start('single');
    await eventually(() => (started ? true : undefined));
    await t.engine.signal({ workflowId }, { type: 'LEAVE' });
    await t.engine.result({ workflowId });
    await eventually(() => abortedReason);
    expect(kinds(await t.engine.history({ workflowId }))).toContain('ActivityCancelRequested');
  });

  it('refuses a completion whose task token is stale', async () => {
    const wf = single({});
    t = await createTestEngine({ workflows: [wf] });
    const tokens: string[] = [];
    const session = t.engine.openSession(
      { namespace: 'default', taskQueue: 'q', activityTypes: ['work'], slots: 5 },
      { onTask: (task) => tokens.push(task.taskToken), onCancel: () => {} },
    );
    const { workflowId } = await t.engine.start('single');
    const token = await eventually(() => tokens[0]);
    await session.complete(token, 'first');
    await expect(session.complete(token, 'again')).rejects.toMatchObject({ code: 'TASK_TOKEN_STALE' });
    await expect(session.complete('not-a-token', 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await t.engine.result({ workflowId })).output).toMatchObject({ output: 'first' });
  });

  it('pushes no more tasks to a worker than it has free slots', async () => {
    const wf = single({});
    t = await createTestEngine({ workflows: [wf] });
    const received: string[] = [];
    const session = t.engine.openSession(
      { namespace: 'default', taskQueue: 'q', activityTypes: ['work'], slots: 2 },
      { onTask: (task) => received.push(task.taskToken), onCancel: () => {} },
    );
    for (let i = 0; i < 5; i++) await t.engine.start('single', { workflowId: `w${i}` });
    await eventually(() => (received.length === 2 ? true : undefined));
    await session.complete(received[0]!, 'ok');
    await eventually(() => (received.length === 3 ? true : undefined));
    expect(received).toHaveLength(3);
  });

  it('runs fromPromise actors as local activities: result recorded, failures retried', async () => {
    let calls = 0;
    const lookup = fromPromise(async ({ input }: { input: { sku: string } }) => {
      calls++;
      if (calls === 1) throw new Error('cold cache');
      return { sku: input.sku, price: 9 };
    });
    const wf = workflow(setup({ actors: { lookup } }).createMachine({
      id: 'pricing', initial: 'looking', context: { price: 0 },
      states: {
        looking: { invoke: { id: 'lookup', src: 'lookup', input: { sku: 'A1' }, onDone: { target: 'priced', actions: assign({ price: ({ event }) => event.output.price }) } } },
        priced: { type: 'final' },
      },
      output: ({ context }) => context,
    }));
    t = await createTestEngine({ workflows: [wf] });
    const { workflowId } = await t.engine.start('pricing');
    expect((await t.engine.result({ workflowId })).output).toEqual({ price: 9 });
    const history = await t.engine.history({ workflowId });
    expect(history.find((e) => e.kind === 'ActivityScheduled')).toMatchObject({ local: true, activityType: 'lookup' });
    expect(history.find((e) => e.kind === 'ActivityCompleted')).toMatchObject({ attempt: 2, output: { sku: 'A1', price: 9 } });
  });
});

describe('termination and running activities', () => {
  it('aborts the activities a terminated execution was running', async () => {
    const work = activity<{ ms: number }, string>('work', { taskQueue: 'q' });
    const wf = workflow(setup({ actors: { work } }).createMachine({
      id: 'terminable', initial: 'working',
      states: { working: { invoke: { id: 'w', src: 'work', input: { ms: 0 }, onDone: 'done' } }, done: { type: 'final' } },
    }));
    const t = await createTestEngine({ workflows: [wf] });
    try {
      let started = false;
      let aborted = false;
      runWorker(t.engine, 'q', {
        work: (_input, ctx) => new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
      });
      const { workflowId } = await t.engine.start('terminable');
      await eventually(() => (started ? true : undefined));
      await t.engine.terminate({ workflowId }, 'no longer needed');
      await eventually(() => (aborted ? true : undefined));
      expect((await t.engine.describe({ workflowId })).status).toBe('terminated');
    } finally {
      await t.cleanup();
    }
  });
});
