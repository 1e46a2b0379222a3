/**
 * The budget of one machine step: how many microsteps, and how much wall time, a single
 * `transition()` may take before the engine stops it. Guards, `assign`, `always` chains, context
 * factories and output functions are user code that runs inside the server's event loop: an
 * eventless loop (`a: { always: 'b' }, b: { always: 'a' }`) would otherwise hold the loop, and
 * every other execution, /healthz and SIGTERM with it, while its microsteps fill memory
 * (issue 11). See docs/workflow-isolation.md.
 *
 * Where it is enforced: XState's `macrostep` reports each microstep to
 * `actorScope.system._sendInspectionEvent` (`@xstate.microstep`) before taking the next one; the
 * engine's inert scope (machine-step.ts) routes that call to `tick()`, which throws past the
 * budget. The throw unwinds `transition()` like a throwing guard does, between two microsteps,
 * so no half-taken microstep leaks out.
 *
 * What it cannot stop: one guard or action that never returns (`while (true) {}`) reports no
 * microstep; only a thread that can be terminated could stop it (see the doc for why that is not
 * done, and what it would cost).
 */
import { InvalidArgumentError } from '../../common/errors.ts';

/** The engine's limits on one machine step, and what happens to a step that breaks one. */
export interface StepLimits {
  /** Microsteps one step may take (eventless transitions and raised events each count one). */
  maxMicrosteps: number;
  /** Wall time one step may take, in ms; checked at each microstep and when the step returns. */
  timeBudgetMs: number;
  /**
   * A step that breaks a limit or whose machine code throws: `'block'` (default) commits nothing
   * and reports the execution blocked until an operator acts; `'fail'` fails the execution with
   * the coded reason. A time budget overrun always blocks: it depends on the machine the server
   * runs on, so replay could not reproduce it as a failure.
   */
  onStepFailure: 'block' | 'fail';
}

/**
 * 10,000 microsteps is far more than a real step takes (the example machines take under 10) yet
 * stops an eventless loop within a few tens of ms. 1 s of synchronous work in one step already
 * stalls every other execution on the server; Temporal's default workflow-task timeout is 10 s,
 * but that bounds a round trip to a worker, not a stalled server.
 */
export const DEFAULT_STEP_LIMITS: StepLimits = { maxMicrosteps: 10_000, timeBudgetMs: 1_000, onStepFailure: 'block' };

/**
 * The engine's step limits: the defaults with `options` over them, checked.
 *
 * @example
 * resolveStepLimits({ maxMicrosteps: 50_000, onStepFailure: 'fail' })
 */
export function resolveStepLimits(options: Partial<StepLimits> = {}): StepLimits {
  const limits = { ...DEFAULT_STEP_LIMITS, ...options };
  for (const key of ['maxMicrosteps', 'timeBudgetMs'] as const) {
    if (!Number.isInteger(limits[key]) || limits[key] <= 0) {
      throw new InvalidArgumentError(`stepLimits.${key} must be a positive integer (default ${DEFAULT_STEP_LIMITS[key]}), not ${JSON.stringify(limits[key])}`);
    }
  }
  if (limits.onStepFailure !== 'block' && limits.onStepFailure !== 'fail') {
    throw new InvalidArgumentError(`stepLimits.onStepFailure must be "block" (the default) or "fail", not ${JSON.stringify(limits.onStepFailure)}`);
  }
  return limits;
}

/** The code of a step that was stopped, as in ERROR_CODES. */
export type StepFailureCode = 'MICROSTEP_LIMIT_EXCEEDED' | 'STEP_TIME_BUDGET_EXCEEDED' | 'MACHINE_CODE_FAILED';

/** Thrown from inside `transition()` when a step runs out of budget. */
export class StepBudgetExceeded extends Error {
  constructor(readonly code: Exclude<StepFailureCode, 'MACHINE_CODE_FAILED'>, readonly state: unknown, readonly detail: string) {
    super(detail);
    this.name = 'StepBudgetExceeded';
  }
}

/**
 * Counts the microsteps of one step and watches its deadline. `now` is a monotonic clock in ms
 * (`performance.now`); without one only the microstep count is enforced, which is deterministic:
 * replay and the pure tests use that form.
 */
export class StepBudget {
  private microsteps = 0;
  private deadline = Infinity;

  constructor(readonly limits: Pick<StepLimits, 'maxMicrosteps' | 'timeBudgetMs'>, private readonly now?: () => number) {}

  /** Starts a new step: resets the count, arms the deadline. */
  begin(): void {
    this.microsteps = 0;
    this.deadline = this.now ? this.now() + this.limits.timeBudgetMs : Infinity;
  }

  /** Called by XState between microsteps, with the snapshot the last one reached. */
  tick(state: unknown): void {
    if (++this.microsteps > this.limits.maxMicrosteps) {
      throw new StepBudgetExceeded('MICROSTEP_LIMIT_EXCEEDED', state,
        `the step took more than ${this.limits.maxMicrosteps} microsteps (limit maxMicrosteps): an eventless (always) loop or raised events that never settle`);
    }
    this.checkDeadline(state);
  }

  /** After the step returned: a single long guard or action reports no microstep until it ends. */
  checkDeadline(state: unknown): void {
    if (this.deadline !== Infinity && this.now!() > this.deadline) {
      throw new StepBudgetExceeded('STEP_TIME_BUDGET_EXCEEDED', state,
        `the step ran past its time budget of ${this.limits.timeBudgetMs} ms (limit timeBudgetMs) after ${this.microsteps} microsteps`);
    }
  }

  get microstepsTaken(): number {
    return this.microsteps;
  }
}

/** What decide() reports of a step it stopped (a broken limit) or that threw in machine code. */
export interface StepFailure {
  code: StepFailureCode;
  /** The state value the step was in when it stopped (the last microstep's), as JSON. */
  state: unknown;
  /** What happened, without the execution's ids (the shell adds them). */
  detail: string;
}

/** The step failure of an error thrown out of `transition()` (or caught into an error snapshot). */
export function stepFailureOf(error: unknown, stateBefore: unknown): StepFailure {
  if (error instanceof StepBudgetExceeded) return { code: error.code, state: stateValueOf(error.state) ?? stateBefore, detail: error.detail };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'MACHINE_CODE_FAILED', state: stateBefore, detail: `machine code threw (a guard, assign, context factory or output function): ${message}` };
}

function stateValueOf(snapshot: unknown): unknown {
  const value = (snapshot as { value?: unknown } | undefined)?.value;
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
