import { fromPromise, type PromiseActorLogic } from 'xstate';
import { InvalidArgumentError, PerdureError } from '../common/errors.ts';
import { PARENT_CLOSE_POLICIES, type ParentClosePolicy } from '../common/parent-close-policy.ts';

const CHILD_WORKFLOW = Symbol.for('perdure.childWorkflow');

export type { ParentClosePolicy };

export interface ChildWorkflowOptions<In = unknown> {
  /**
   * The child's workflow id: a string, or made from the invoke's input. Default
   * `<parent workflow id>/<invoke id>`, the same on every replay.
   */
  workflowId?: string | ((input: In) => string);
  /** Default 'terminate'. */
  parentClosePolicy?: ParentClosePolicy;
}

/** What `childWorkflow()` attaches to its actor logic so the engine starts a separate execution. */
export interface ChildWorkflowMarker {
  workflowType: string;
  workflowId?: string | ((input: unknown) => string);
  parentClosePolicy: ParentClosePolicy;
}

/** Actor logic of a child workflow: an ordinary promise actor to XState and Stately tools. */
export type ChildWorkflowLogic<In, Out> = PromiseActorLogic<Out, In> & { readonly [CHILD_WORKFLOW]: ChildWorkflowMarker };

/**
 * Declares a child workflow: invoking it starts a separate execution of `workflowType` (its own
 * history, visible and signalable on its own). Its output arrives as `xstate.done.actor.<id>`;
 * its failure, cancellation or termination as `xstate.error.actor.<id>` carrying a
 * `ChildWorkflowFailure` whose `cause` says why. Leaving the invoking state asks the child to
 * cancel; the parent closing applies `parentClosePolicy`.
 *
 * @example
 * const shipment = childWorkflow<{ orderId: string }, { trackingId: string }>('shipment', {
 *   workflowId: (input) => `shipment-${input.orderId}`,
 * });
 * setup({ actors: { shipment } }).createMachine({
 *   id: 'order', initial: 'shipping',
 *   states: {
 *     shipping: { invoke: { id: 'ship', src: 'shipment', input: { orderId: 'o-1' }, onDone: 'shipped', onError: 'failed' } },
 *     shipped: { type: 'final' }, failed: { type: 'final' },
 *   },
 * });
 */
export function childWorkflow<In = unknown, Out = unknown>(workflowType: string, options: ChildWorkflowOptions<In> = {}): ChildWorkflowLogic<In, Out> {
  if (typeof workflowType !== 'string' || workflowType.length === 0) {
    throw new InvalidArgumentError('childWorkflow(workflowType): workflowType must be a non-empty string');
  }
  const policy = options.parentClosePolicy ?? 'terminate';
  if (!(PARENT_CLOSE_POLICIES as readonly string[]).includes(policy)) {
    throw new InvalidArgumentError(`childWorkflow("${workflowType}"): parentClosePolicy must be one of ${PARENT_CLOSE_POLICIES.join(', ')}`);
  }
  const workflowId = options.workflowId;
  if (workflowId !== undefined && typeof workflowId !== 'string' && typeof workflowId !== 'function') {
    throw new InvalidArgumentError(`childWorkflow("${workflowType}"): workflowId must be a string or a function of the input`);
  }
  const logic = fromPromise<Out, In>(() => {
    // Reached only when someone runs the machine with a live createActor instead of the engine.
    throw new PerdureError('INVALID_DEFINITION', `child workflow "${workflowType}" runs as its own execution, not in a live XState actor: run this machine with the Perdure engine (perdure server, or createTestEngine in tests).`);
  });
  const marker: ChildWorkflowMarker = { workflowType, workflowId: workflowId as ChildWorkflowMarker['workflowId'], parentClosePolicy: policy };
  return Object.assign(logic, { [CHILD_WORKFLOW]: marker });
}

/** The child workflow marker of a piece of actor logic, if it was made by `childWorkflow()`. */
export function childWorkflowMarker(logic: unknown): ChildWorkflowMarker | undefined {
  return typeof logic === 'object' && logic !== null ? (logic as { [CHILD_WORKFLOW]?: ChildWorkflowMarker })[CHILD_WORKFLOW] : undefined;
}
