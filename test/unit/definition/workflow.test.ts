import { describe, it, expect } from 'vitest';
import {
  assign, createMachine, fromCallback, fromObservable, fromPromise, fromTransition, raise, setup, spawnChild,
  type AnyStateMachine, type Subscribable,
} from 'xstate';
import type { Duration } from '../../../src/common/activity-options.ts';
import { InvalidArgumentError, InvalidDefinitionError, PerdureError } from '../../../src/common/errors.ts';
import { activity, activityMarker } from '../../../src/definition/activity.ts';
import { actorKind } from '../../../src/definition/actor-kind.ts';
import { isWorkflowDefinition, workflow } from '../../../src/definition/workflow.ts';

type Ctx = { n: number };

/**
 * An order machine using every kind of implementation the version hashes. Each part can be
 * replaced by a lambda written at the call site, so two calls differ in source text, not only
 * in a closed-over value (which no content hash can see).
 */
function orderMachine(parts: {
  isBig?: (args: { context: Ctx }) => boolean;
  bumpBy?: (args: { context: Ctx }) => number;
  wait?: number;
  retryDelay?: number;
  chargeTimeout?: Duration;
} = {}) {
  const chargeCard = activity<{ amount: number }, { chargeId: string }>('chargeCard', {
    taskQueue: 'payments',
    startToCloseTimeout: parts.chargeTimeout ?? '10s',
  });
  return setup({
    types: { context: {} as Ctx },
    actors: { chargeCard, lookup: fromPromise(async () => 42) },
    guards: { isBig: parts.isBig ?? (({ context }) => context.n > 10) },
    actions: { bump: assign({ n: parts.bumpBy ?? (({ context }) => context.n + 1) }) },
    delays: { wait: parts.wait ?? 1000 },
  }).createMachine({
    id: 'order',
    context: { n: 0 },
    initial: 'looking',
    states: {
      looking: { invoke: { id: 'lookup', src: 'lookup', onDone: 'charging' } },
      charging: {
        entry: 'bump',
        invoke: {
          id: 'charge',
          src: 'chargeCard',
          input: { amount: 42 },
          onDone: [{ guard: 'isBig', target: 'done' }, { target: 'waiting' }],
          onError: { actions: raise({ type: 'RETRY' }, { id: 'retry', delay: parts.retryDelay ?? 500 }) },
        },
        on: { RETRY: 'waiting' },
      },
      waiting: { after: { wait: 'charging' } },
      done: { type: 'final' },
    },
  });
}

/** The InvalidDefinitionError that workflow(machine) throws; fails the test if it throws anything else. */
function definitionError(machine: AnyStateMachine): InvalidDefinitionError {
  try {
    workflow(machine);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    expect((error as InvalidDefinitionError).code).toBe('INVALID_DEFINITION');
    return error as InvalidDefinitionError;
  }
  throw new Error('expected workflow(machine) to throw InvalidDefinitionError');
}

/** An observable that never emits: enough for fromObservable's type and for classification. */
const silent: Subscribable<number> = { subscribe: () => ({ unsubscribe: () => {} }) };

describe('workflow()', () => {
  it('accepts a machine whose actors are activity() and fromPromise, and names the type after the machine id', () => {
    const machine = orderMachine();
    const definition = workflow(machine);
    expect(definition.type).toBe('order');
    expect(definition.machine).toBe(machine);
    expect(isWorkflowDefinition(definition)).toBe(true);
    expect(isWorkflowDefinition(machine)).toBe(false);
  });

  it('refuses an inline child machine, naming the state and pointing to activity() and childWorkflow()', () => {
    const machine = createMachine({
      id: 'review',
      initial: 'reviewing',
      states: { reviewing: { invoke: { id: 'reviewer', src: createMachine({ id: 'reviewer' }) } } },
    });
    const error = definitionError(machine);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('state "review.reviewing" invoke #0 ("reviewer")');
    expect(error.message).toContain('inline child machine');
    expect(error.message).toContain('activity()');
    expect(error.message).toContain('childWorkflow()');
  });

  it('refuses a fromCallback actor, naming the state and pointing to activity() or fromPromise', () => {
    const machine = setup({ actors: { listen: fromCallback(() => () => {}) } }).createMachine({
      id: 'listener',
      initial: 'listening',
      states: { listening: { invoke: { id: 'ears', src: 'listen' } } },
    });
    const error = definitionError(machine);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('state "listener.listening" invoke #0 ("ears")');
    expect(error.message).toContain('use activity()');
    expect(error.message).toContain('fromPromise');
  });

  it('refuses a fromObservable actor, naming the state and pointing to activity() or fromPromise', () => {
    const machine = setup({ actors: { ticks: fromObservable(() => silent) } }).createMachine({
      id: 'ticker',
      initial: 'ticking',
      states: { ticking: { invoke: { id: 'clock', src: 'ticks' } } },
    });
    const error = definitionError(machine);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('state "ticker.ticking" invoke #0 ("clock")');
    expect(error.message).toContain('use activity()');
    expect(error.message).toContain('fromPromise');
  });

  it('refuses spawnChild without an id, telling to pass spawnChild(src, { id })', () => {
    const machine = setup({ actors: { x: fromPromise(async () => 1) } }).createMachine({
      id: 'spawner',
      initial: 'idle',
      states: { idle: { entry: spawnChild('x') } },
    });
    const error = definitionError(machine);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('state "spawner.idle" spawnChild("x")');
    expect(error.message).toContain('spawnChild(src, { id })');
  });

  it('refuses spawnChild without an id when it is a named action of setup({ actions })', () => {
    const machine = setup({
      actors: { x: fromPromise(async () => 1) },
      actions: { startX: spawnChild('x') },
    }).createMachine({
      id: 'spawner',
      initial: 'idle',
      states: { idle: { on: { GO: { actions: 'startX' } }, exit: { type: 'startX' } } },
    });
    const error = definitionError(machine);
    expect(error.problems).toHaveLength(2);
    expect(error.problems.every((p) => p.includes('spawnChild(src, { id })'))).toBe(true);
  });

  it('accepts spawnChild of a fromPromise actor that has an explicit id', () => {
    const machine = setup({ actors: { x: fromPromise(async () => 1) } }).createMachine({
      id: 'spawner',
      entry: spawnChild('x', { id: 'x1' }),
    });
    expect(workflow(machine).type).toBe('spawner');
  });

  it('refuses an invoke whose src is not in setup({ actors }), telling to add it there', () => {
    const machine = createMachine({
      id: 'lost',
      initial: 'a',
      states: { a: { invoke: { id: 'ghost', src: 'missing' } } },
    });
    const error = definitionError(machine);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('state "lost.a" invoke #0 ("ghost"): src "missing" is not in setup({ actors }); add it there');
  });

  it('refuses a machine without an id, telling that the id is the workflow type name', () => {
    const machine = setup({}).createMachine({ initial: 'a', states: { a: {} } });
    const error = definitionError(machine);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('no id');
    expect(error.message).toContain('createMachine({ id: "order", … })');
  });

  it('lists every problem of a machine in one error', () => {
    const machine = setup({
      actors: { listen: fromCallback(() => () => {}), x: fromPromise(async () => 1) },
    }).createMachine({
      initial: 'a',
      states: {
        // XState's types refuse inline logic beside setup({ actors }); JavaScript callers can still pass it.
        a: { invoke: [{ id: 'ears', src: 'listen' }, { id: 'kid', src: createMachine({ id: 'kid' }) as never }] },
        b: { entry: spawnChild('x') },
      },
    });
    const error = definitionError(machine);
    expect(error.problems).toHaveLength(4);
    for (const fragment of ['no id', 'invoke #0 ("ears")', 'invoke #1 ("kid")', 'spawnChild("x")']) {
      expect(error.problems.filter((p) => p.includes(fragment))).toHaveLength(1);
      expect(error.message).toContain(fragment);
    }
  });
});

describe('workflow() version', () => {
  const versionOf = (machine: AnyStateMachine) => workflow(machine).version;

  it('is 12 hex digits of content hash, the same for the same machine built twice', () => {
    const first = versionOf(orderMachine());
    expect(first).toMatch(/^[0-9a-f]{12}$/);
    expect(versionOf(orderMachine())).toBe(first);
  });

  it("keeps the version when only a function's body changes: build tools print source differently, replay judges behaviour", () => {
    expect(versionOf(orderMachine({ isBig: ({ context }) => context.n > 20 }))).toBe(versionOf(orderMachine()));
    expect(versionOf(orderMachine({ bumpBy: ({ context }) => context.n + 2 }))).toBe(versionOf(orderMachine()));
  });

  it('changes when the structure changes: a state, a transition, an invoked actor', () => {
    const base = versionOf(orderMachine());
    const withState = setup({}).createMachine({ id: 'order', initial: 'a', states: { a: {}, b: {} } });
    const withoutState = setup({}).createMachine({ id: 'order', initial: 'a', states: { a: {} } });
    expect(versionOf(withState)).not.toBe(versionOf(withoutState));
    const withEvent = setup({}).createMachine({ id: 'order', initial: 'a', states: { a: { on: { GO: 'b' } }, b: {} } });
    expect(versionOf(withEvent)).not.toBe(versionOf(withState));
    expect(base).toMatch(/^[0-9a-f]{12}$/);
  });

  it('changes when data given to a built-in action changes', () => {
    const m = (n: number) => setup({}).createMachine({ id: 'order', initial: 'a', context: { n: 0 }, states: { a: { entry: assign({ n }) } } });
    expect(versionOf(m(1))).not.toBe(versionOf(m(2)));
  });

  it('changes when a named delay changes', () => {
    expect(versionOf(orderMachine({ wait: 2000 }))).not.toBe(versionOf(orderMachine()));
  });

  it("changes when a delayed raise's delay changes", () => {
    expect(versionOf(orderMachine({ retryDelay: 501 }))).not.toBe(versionOf(orderMachine()));
  });

  it("changes when an activity's options change", () => {
    expect(versionOf(orderMachine({ chargeTimeout: '20s' }))).not.toBe(versionOf(orderMachine()));
  });

  it('uses the version given in options instead of the hash', () => {
    expect(workflow(orderMachine(), { version: 'v2' }).version).toBe('v2');
  });
});

describe('activity()', () => {
  it('is promise logic carrying its name and options for the engine', () => {
    const options = { taskQueue: 'payments', startToCloseTimeout: '10s', retry: { maximumAttempts: 5 } } as const;
    const charge = activity('chargeCard', options);
    expect(activityMarker(charge)).toEqual({ name: 'chargeCard', options });
    expect(activityMarker(fromPromise(async () => 1))).toBeUndefined();
  });

  it.each([
    ['an empty name', () => activity(''), 'name'],
    ['a negative timeout', () => activity('a', { startToCloseTimeout: -1 }), 'startToCloseTimeout'],
    ['a duration in unknown units', () => activity('a', { heartbeatTimeout: '10 parsecs' as Duration }), 'heartbeatTimeout'],
    ['a backoffCoefficient below 1', () => activity('a', { retry: { backoffCoefficient: 0.5 } }), 'retry.backoffCoefficient'],
    ['a fractional maximumAttempts', () => activity('a', { retry: { maximumAttempts: 1.5 } }), 'retry.maximumAttempts'],
    ['a zero initialInterval', () => activity('a', { retry: { initialInterval: 0 } }), 'retry.initialInterval'],
  ])('refuses %s with INVALID_ARGUMENT naming the field', (_case, make, field) => {
    let thrown: unknown;
    try {
      make();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as PerdureError).code).toBe('INVALID_ARGUMENT');
    expect((thrown as PerdureError).message).toContain(field);
  });
});

describe('actorKind()', () => {
  it('tells activities, local activities, machines and unsupported logic apart', () => {
    expect(actorKind(activity('a'))).toBe('activity');
    expect(actorKind(fromPromise(async () => 1))).toBe('localActivity');
    expect(actorKind(createMachine({ id: 'child' }))).toBe('machine');
    expect(actorKind(fromCallback(() => {}))).toBe('unsupported');
    expect(actorKind(fromObservable(() => silent))).toBe('unsupported');
    expect(actorKind(fromTransition((state: number) => state + 1, 0))).toBe('unsupported');
  });

  it('calls anything that is not actor logic unsupported', () => {
    for (const value of [undefined, null, 'chargeCard', 42, {}, () => 1]) expect(actorKind(value)).toBe('unsupported');
  });
});
