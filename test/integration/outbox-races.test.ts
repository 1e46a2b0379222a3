import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { counterWorkflow } from '../../machines/counter.ts';
import { fulfillmentWorkflow, shipmentWorkflow } from '../../machines/fulfillment.ts';
import { childWorkflow, continueAsNew, workflow, type WorkflowDefinition } from '../../src/index.ts';
import { Engine } from '../../src/server/index.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import type { RunCommit, Store, TimerEntry } from '../../src/store/store.ts';
import { eventually } from '../helpers/engine.ts';

/** What the store underneath the engine is told to get wrong, switched on and off by a test. */
interface Faults {
  /** Timer-index entries hidden from the engine: outbox work it has "not got to yet". */
  hideDue?: (entry: TimerEntry) => boolean;
  /** Commits refused, as when the process dies before they are written. */
  failCommit?: (commit: RunCommit) => boolean;
  /** Commits held back until the promise returned resolves: a slow write. */
  holdCommit?: (commit: RunCommit) => Promise<void> | undefined;
}

function withFaults(store: Store, faults: Faults): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'listDueTimers') {
        return async (...args: Parameters<Store['listDueTimers']>) => (await target.listDueTimers(...args)).filter((e) => !faults.hideDue?.(e));
      }
      if (property === 'commit') {
        return async (commit: RunCommit) => {
          if (faults.failCommit?.(commit)) throw new Error('simulated crash before this commit');
          await faults.holdCommit?.(commit);
          return target.commit(commit);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A parent whose child is a counter chain (it continues as new every two ADDs). */
const tally = workflow(setup({ actors: { counter: childWorkflow<{ rollAt: number }, { total: number }>('counter') } }).createMachine({
  id: 'tally', initial: 'counting',
  states: { counting: { invoke: { id: 'counter', src: 'counter', input: { rollAt: 3 }, onDone: 'done' } }, done: { type: 'final' } },
}));

/** A parent that can leave the state invoking its child (LEAVE), then continue as new (ROLL). */
const rolling = workflow(setup({
  types: {} as { input: { rolled?: boolean }; context: { rolled: boolean }; events: { type: 'LEAVE' } | { type: 'ROLL' } },
  actors: { ship: childWorkflow<{ orderId: string }, unknown>('shipment') },
}).createMachine({
  id: 'rolling',
  context: ({ input }) => ({ rolled: input?.rolled ?? false }),
  initial: 'choosing',
  states: {
    choosing: { always: [{ guard: ({ context }) => context.rolled, target: 'idle' }, { target: 'shipping' }] },
    shipping: { invoke: { id: 'ship', src: 'ship', input: { orderId: 'r' } }, on: { LEAVE: 'idle' } },
    idle: { on: { ROLL: 'rolled' } },
    rolled: { type: 'final' },
  },
  output: () => continueAsNew({ rolled: true }),
}));

describe('the outbox racing starts, hand-overs and closes', () => {
  let engine: Engine | undefined;
  let dataDir: string;
  afterEach(async () => {
    await engine?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startEngine(workflows: WorkflowDefinition[], faults?: Faults): Promise<Engine> {
    const level = new LevelStore({ directory: dataDir, durability: 'os' });
    engine = await Engine.start({ workflows, store: faults ? withFaults(level, faults) : level });
    return engine;
  }
  const runsOf = async (workflowId: string) => (await engine!.list({ workflowIdPrefix: workflowId })).runs.filter((r) => r.workflowId === workflowId);
  const outboxOf = async (workflowId: string) => (await engine!.store.getRun((await engine!.describe({ workflowId })).runId))!.outbox ?? {};

  it('terminates the child run that was made just before the parent recorded its start', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'perdure-close-race-'));
    // The child's run is made; the parent's ChildWorkflowStarted is never written (as if the
    // server died in between), so the parent's record says the child is not started yet.
    const e = await startEngine([fulfillmentWorkflow, shipmentWorkflow], { failCommit: (c) => c.events.some((ev) => ev.kind === 'ChildWorkflowStarted') });
    await e.start('fulfillment', { workflowId: 'f-1', input: { orderId: 'o-1' } });
    await eventually(async () => ((await runsOf('shipment-o-1'))[0]?.status === 'running' ? true : undefined));
    expect((await e.describe({ workflowId: 'f-1' })).pendingChildren).toMatchObject([{ childId: 'shipment', started: false }]);

    await e.terminate({ workflowId: 'f-1' }, 'operator stop');

    // The default close policy (terminate) reaches the child all the same.
    expect((await e.result({ workflowId: 'shipment-o-1' }, { timeoutMs: 5_000 })).status).toBe('terminated');
    await eventually(async () => (Object.keys(await outboxOf('f-1')).length === 0 ? true : undefined));
  });

  it('terminates the run a child chain hands over to when the parent closes during the hand-over', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'perdure-close-race-'));
    // The outbox has not got to the child's hand-over yet: its successor run is not made.
    let handOverHeld = true;
    const e = await startEngine([tally, counterWorkflow], { hideDue: (entry) => handOverHeld && entry.kind === 'outbox' && entry.id === 'continueAsNew' });
    await e.start('tally', { workflowId: 't-1' });
    await eventually(async () => ((await runsOf('t-1/counter'))[0]?.status === 'running' ? true : undefined));
    await e.signal({ workflowId: 't-1/counter' }, { type: 'ADD', amount: 1 });
    await e.signal({ workflowId: 't-1/counter' }, { type: 'ADD', amount: 2 }); // the run continues as new
    expect((await runsOf('t-1/counter')).map((r) => r.status)).toEqual(['continuedAsNew']);

    await e.terminate({ workflowId: 't-1' }, 'operator stop');
    await eventually(async () => (Object.keys(await outboxOf('t-1')).length === 0 ? true : undefined));
    // A restart lets the outbox do the hand-over it was held back from.
    handOverHeld = false;
    await e.stop();
    await startEngine([tally, counterWorkflow]);
    const [first] = await runsOf('t-1/counter').then((runs) => runs.filter((r) => r.status === 'continuedAsNew'));
    await eventually(async () => (Object.keys((await engine!.store.getRun(first!.runId))!.outbox ?? {}).length === 0 ? true : undefined));

    const chain = (await runsOf('t-1/counter')).reverse();
    expect(chain.map((r) => r.status), 'the chain ends with its parent, in the run it handed over to').toEqual(['continuedAsNew', 'terminated']);
    expect((await engine!.describe({ workflowId: 't-1/counter' })).failure?.message).toMatch(/its parent t-1 closed/);
  });

  it('keeps the removals of done outbox items when a run closes while one of its items is being done', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'perdure-close-race-'));
    // The child's cancellation is written slowly: the parent's request to cancel it is still
    // being done when the parent continues as new.
    let release!: () => void;
    let cancelling!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const cancelReached = new Promise<void>((resolve) => (cancelling = resolve));
    const e = await startEngine([rolling, shipmentWorkflow], {
      holdCommit: (c) => {
        if (!c.events.some((ev) => ev.kind === 'WorkflowCanceled')) return undefined;
        cancelling();
        return slow;
      },
    });
    await e.start('rolling', { workflowId: 'r-1' });
    await eventually(async () => ((await runsOf('r-1/ship'))[0]?.status === 'running' ? true : undefined));
    const first = (await e.describe({ workflowId: 'r-1' })).runId;
    await e.signal({ workflowId: 'r-1' }, { type: 'LEAVE' }); // asks the child to cancel
    await cancelReached; // the outbox is doing it, from the open parent
    await e.signal({ workflowId: 'r-1' }, { type: 'ROLL' }); // the run continues as new
    // A signal during the hand-over does it at once (the outbox is busy with the cancellation).
    await e.signal({ workflowId: 'r-1' }, { type: 'ROLL' });
    release();

    expect((await e.result({ workflowId: 'r-1/ship' }, { timeoutMs: 5_000 })).status).toBe('canceled');
    await eventually(async () => (Object.keys((await e.store.getRun(first))!.outbox ?? {}).length === 0 ? true : undefined));
    // The outbox's timer may leave a commit later than its last item: wait for that too.
    await eventually(async () => ((await e.store.listDueTimers(Number.MAX_SAFE_INTEGER, 100)).some((t) => t.kind === 'outbox') ? undefined : true));
  });
});
