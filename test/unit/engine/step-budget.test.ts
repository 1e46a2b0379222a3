import { describe, expect, it } from 'vitest';
import { assign, raise, setup, type AnyMachineSnapshot } from 'xstate';
import type { MachineEvent } from '../../../src/common/history.ts';
import { workflow, type WorkflowDefinition } from '../../../src/definition/workflow.ts';
import { decide, type DeliveredEvent } from '../../../src/engine/core/decide.ts';
import { DEFAULT_STEP_LIMITS, resolveStepLimits, StepBudget } from '../../../src/engine/core/step-budget.ts';
import { brittleWorkflow, spinnerWorkflow } from '../../fixtures/misbehaving-machines.ts';

// Pure tests of the step budget through decide(): the deadline reads a fake monotonic clock
// that the test (or the machine's own code) moves, so nothing here depends on real time.

const started = (definition: WorkflowDefinition, input?: unknown): DeliveredEvent =>
  ({ kind: 'WorkflowStarted', type: definition.type, version: definition.version, namespace: 'default', workflowId: 'wf-1', input });
const signal = (event: MachineEvent): DeliveredEvent => ({ kind: 'SignalReceived', event });
const ctx = (seq: number, budget?: StepBudget) =>
  ({ seq, at: 1_000, workflowId: 'wf-1', activities: [], timers: [], children: [], history: { length: seq - 1, bytes: 0 }, budget });

function start(definition: WorkflowDefinition, input?: unknown): AnyMachineSnapshot {
  const decision = decide(definition, undefined, started(definition, input), ctx(1));
  expect(decision.stepFailure).toBeUndefined();
  return decision.snapshot;
}

/** A monotonic clock that moves only when told. */
function fakeClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** a → b → c → d by eventless transitions after GO: the GO microstep plus three. */
const chain = workflow(setup({}).createMachine({
  id: 'chain', initial: 'idle',
  states: { idle: { on: { GO: 'a' } }, a: { always: 'b' }, b: { always: 'c' }, c: { always: 'd' }, d: {} },
}));

describe('the step budget', () => {
  it('stops an eventless loop at the microstep limit, naming the state and the limit', () => {
    const idle = start(spinnerWorkflow);
    const decision = decide(spinnerWorkflow, idle, signal({ type: 'GO' }), ctx(2));
    expect(decision.stepFailure).toMatchObject({ code: 'MICROSTEP_LIMIT_EXCEEDED', state: expect.stringMatching(/^spin2?$/) });
    expect(decision.stepFailure!.detail).toContain(`more than ${DEFAULT_STEP_LIMITS.maxMicrosteps} microsteps`);
    expect(decision.status).toBe('failed');
    expect(decision.commands).toEqual([{
      kind: 'WorkflowFailed',
      failure: expect.objectContaining({ code: 'APPLICATION_FAILURE', type: 'MICROSTEP_LIMIT_EXCEEDED', nonRetryable: true, message: expect.stringContaining('maxMicrosteps') }),
    }]);
  });

  it('stops a loop of raised events the same way', () => {
    const pingPong = workflow(setup({}).createMachine({
      id: 'pingPong', initial: 'idle',
      states: { idle: { on: { GO: 'ping' } }, ping: { entry: raise({ type: 'PONG' }), on: { PONG: 'pong' } }, pong: { entry: raise({ type: 'PING' }), on: { PING: 'ping' } } },
    }));
    const decision = decide(pingPong, start(pingPong), signal({ type: 'GO' }), ctx(2));
    expect(decision.stepFailure?.code).toBe('MICROSTEP_LIMIT_EXCEEDED');
  });

  it('lets a step take exactly the limit, and stops it one microstep below', () => {
    const idle = start(chain);
    const counted = new StepBudget({ maxMicrosteps: 1_000, timeBudgetMs: 1_000 });
    expect(decide(chain, idle, signal({ type: 'GO' }), ctx(2, counted)).snapshot.value).toBe('d');
    const taken = counted.microstepsTaken;
    expect(taken).toBe(4);
    expect(decide(chain, idle, signal({ type: 'GO' }), ctx(2, new StepBudget({ maxMicrosteps: taken, timeBudgetMs: 1_000 }))).stepFailure).toBeUndefined();
    const stopped = decide(chain, idle, signal({ type: 'GO' }), ctx(2, new StepBudget({ maxMicrosteps: taken - 1, timeBudgetMs: 1_000 })));
    // XState reports a microstep once taken: the one past the limit is the one that reached d.
    expect(stopped.stepFailure).toMatchObject({ code: 'MICROSTEP_LIMIT_EXCEEDED', state: 'd' });
  });

  it('stops a loop at the time budget when the clock passes it first', () => {
    const clock = fakeClock();
    const slowSpinner = workflow(setup({ types: {} as { context: { n: number } } }).createMachine({
      id: 'slowSpinner', context: { n: 0 }, initial: 'idle',
      states: {
        idle: { on: { GO: 'spin' } },
        // Each lap "takes" 100 ms of the fake clock: the 1 s budget ends the step within 11 laps.
        spin: { always: { target: 'spin', reenter: true, actions: assign({ n: ({ context }) => (clock.advance(100), context.n + 1) }) } },
      },
    }));
    const budget = new StepBudget({ maxMicrosteps: 10_000, timeBudgetMs: 1_000 }, clock.now);
    const decision = decide(slowSpinner, start(slowSpinner), signal({ type: 'GO' }), ctx(2, budget));
    expect(decision.stepFailure).toMatchObject({ code: 'STEP_TIME_BUDGET_EXCEEDED', state: 'spin' });
    expect(decision.stepFailure!.detail).toContain('time budget of 1000 ms');
    expect(budget.microstepsTaken).toBeLessThan(20);
  });

  it('stops a step whose one guard ran past the budget, once the guard returns', () => {
    const clock = fakeClock();
    const slowGuard = workflow(setup({ guards: { slow: () => (clock.advance(5_000), true) } }).createMachine({
      id: 'slowGuard', initial: 'idle', states: { idle: { on: { GO: { guard: 'slow', target: 'done' } } }, done: {} },
    }));
    const decision = decide(slowGuard, start(slowGuard), signal({ type: 'GO' }), ctx(2, new StepBudget(DEFAULT_STEP_LIMITS, clock.now)));
    expect(decision.stepFailure?.code).toBe('STEP_TIME_BUDGET_EXCEEDED');
  });

  it('reports a throwing guard as MACHINE_CODE_FAILED at the state it was in, keeping the error as the failure', () => {
    const decision = decide(brittleWorkflow, start(brittleWorkflow), signal({ type: 'GO' }), ctx(2));
    expect(decision.stepFailure).toMatchObject({ code: 'MACHINE_CODE_FAILED', state: 'idle', detail: expect.stringContaining('the ready guard exploded') });
    expect(decision.commands).toEqual([{ kind: 'WorkflowFailed', failure: expect.objectContaining({ message: expect.stringContaining('the ready guard exploded') }) }]);
  });

  it('reports a first step that loops, or whose context factory throws', () => {
    const loopsAtStart = workflow(setup({}).createMachine({ id: 'loopsAtStart', initial: 'a', states: { a: { always: 'b' }, b: { always: 'a' } } }));
    expect(decide(loopsAtStart, undefined, started(loopsAtStart), ctx(1)).stepFailure?.code).toBe('MICROSTEP_LIMIT_EXCEEDED');
    const picky = workflow(setup({}).createMachine({ id: 'picky', context: () => { throw new Error('no input'); }, initial: 'a', states: { a: {} } }));
    expect(decide(picky, undefined, started(picky), ctx(1)).stepFailure).toMatchObject({ code: 'MACHINE_CODE_FAILED', detail: expect.stringContaining('no input') });
  });

  it('reports an output function that throws', () => {
    const badOutput = workflow(setup({}).createMachine({
      id: 'badOutput', initial: 'idle', states: { idle: { on: { GO: 'done' } }, done: { type: 'final' } },
      output: () => { throw new Error('no output today'); },
    }));
    expect(decide(badOutput, start(badOutput), signal({ type: 'GO' }), ctx(2)).stepFailure).toMatchObject({ code: 'MACHINE_CODE_FAILED', state: 'idle' });
  });

  it('leaves no budget behind: the next step of any machine runs unhindered', () => {
    decide(spinnerWorkflow, start(spinnerWorkflow), signal({ type: 'GO' }), ctx(2, new StepBudget({ maxMicrosteps: 3, timeBudgetMs: 1_000 })));
    const decision = decide(chain, start(chain), signal({ type: 'GO' }), ctx(2));
    expect(decision.stepFailure).toBeUndefined();
    expect(decision.snapshot.value).toBe('d');
  });

  it('checks its limits, with errors that say what is allowed', () => {
    expect(resolveStepLimits()).toEqual(DEFAULT_STEP_LIMITS);
    expect(resolveStepLimits({ maxMicrosteps: 50 })).toEqual({ ...DEFAULT_STEP_LIMITS, maxMicrosteps: 50 });
    expect(() => resolveStepLimits({ maxMicrosteps: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('stepLimits.maxMicrosteps must be a positive integer') }));
    expect(() => resolveStepLimits({ timeBudgetMs: Number.NaN })).toThrow(/stepLimits.timeBudgetMs/);
    expect(() => resolveStepLimits({ onStepFailure: 'retry' as never })).toThrow(/"block" \(the default\) or "fail"/);
  });
});
