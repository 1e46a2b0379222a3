import { fromPromise, type PromiseActorLogic } from 'xstate';
import type { ActivityOptions } from '../common/activity-options.ts';
import { toMs } from '../common/duration.ts';
import { InvalidArgumentError, PerdureError } from '../common/errors.ts';

const ACTIVITY = Symbol.for('perdure.activity');

/** What `activity()` attaches to its actor logic so the engine can schedule it on a worker. */
export interface ActivityMarker {
  name: string;
  options: ActivityOptions;
}

/** Actor logic of an activity: an ordinary promise actor to XState and Stately tools. */
export type ActivityLogic<In, Out> = PromiseActorLogic<Out, In> & { readonly [ACTIVITY]: ActivityMarker };

/**
 * Declares an activity: side-effecting work that a worker polling `options.taskQueue` runs, with
 * the server enforcing its timeouts and retry policy. Put it in `setup({ actors })` and invoke it;
 * its result arrives as `xstate.done.actor.<id>`, its last failure as `xstate.error.actor.<id>`
 * carrying an `ActivityFailure`.
 *
 * @example
 * const chargeCard = activity<{ amount: number }, { chargeId: string }>('chargeCard', {
 *   taskQueue: 'payments', startToCloseTimeout: '10s', retry: { maximumAttempts: 5 },
 * });
 * setup({ actors: { chargeCard } }).createMachine({
 *   initial: 'charging',
 *   states: { charging: { invoke: { id: 'charge', src: 'chargeCard', input: { amount: 42 }, onDone: 'paid' } }, paid: {} },
 * });
 */
export function activity<In = unknown, Out = unknown>(name: string, options: ActivityOptions = {}): ActivityLogic<In, Out> {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('activity(name): name must be a non-empty string');
  validateOptions(name, options);
  const logic = fromPromise<Out, In>(() => {
    // Reached only when someone runs the machine with a live createActor instead of the engine.
    throw new PerdureError('INVALID_DEFINITION', `activity "${name}" runs on a Perdure worker, not in a live XState actor: run this machine with the Perdure engine (perdure server, or createTestEngine in tests).`);
  });
  return Object.assign(logic, { [ACTIVITY]: { name, options } as ActivityMarker });
}

/** The activity marker of a piece of actor logic, if it was made by `activity()`. */
export function activityMarker(logic: unknown): ActivityMarker | undefined {
  return typeof logic === 'object' && logic !== null ? (logic as { [ACTIVITY]?: ActivityMarker })[ACTIVITY] : undefined;
}

function validateOptions(name: string, options: ActivityOptions): void {
  const at = (field: string) => `activity "${name}": ${field}`;
  for (const field of ['startToCloseTimeout', 'scheduleToCloseTimeout', 'scheduleToStartTimeout', 'heartbeatTimeout'] as const) {
    if (options[field] !== undefined) toMs(options[field]!, at(field));
  }
  const retry = options.retry;
  if (retry === undefined) return;
  if (retry.initialInterval !== undefined && toMs(retry.initialInterval, at('retry.initialInterval')) <= 0) {
    throw new InvalidArgumentError(`${at('retry.initialInterval')} must be greater than 0`);
  }
  if (retry.maximumInterval !== undefined) toMs(retry.maximumInterval, at('retry.maximumInterval'));
  if (retry.backoffCoefficient !== undefined && !(retry.backoffCoefficient >= 1)) {
    throw new InvalidArgumentError(`${at('retry.backoffCoefficient')} must be at least 1`);
  }
  if (retry.maximumAttempts !== undefined && !(Number.isInteger(retry.maximumAttempts) && retry.maximumAttempts >= 0)) {
    throw new InvalidArgumentError(`${at('retry.maximumAttempts')} must be a whole number ≥ 0 (0 = unlimited)`);
  }
}
