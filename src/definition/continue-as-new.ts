const CONTINUE_AS_NEW = '$perdure.continueAsNew';

/** The output that ends a run by continuing as new. */
export interface ContinueAsNew<In = unknown> {
  readonly [CONTINUE_AS_NEW]: true;
  readonly input: In;
}

/**
 * Ends the run and starts a fresh run of the same workflow id with `input`, on the newest
 * registered version of the machine, with an empty history: how a long-lived entity keeps its
 * history small. Return it as the machine's output when it reaches a final state; a client
 * waiting for the result follows the chain to the last run.
 *
 * @example
 * createMachine({
 *   id: 'counter',
 *   output: ({ context }) => continueAsNew({ total: context.total }),
 *   …
 * });
 */
export function continueAsNew<In>(input: In): ContinueAsNew<In> {
  return { [CONTINUE_AS_NEW]: true, input };
}

export function isContinueAsNew(output: unknown): output is ContinueAsNew {
  return typeof output === 'object' && output !== null && (output as Record<string, unknown>)[CONTINUE_AS_NEW] === true;
}
