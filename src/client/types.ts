import type { AnyStateMachine, ContextFrom, EventFromLogic, InputFrom, OutputFrom } from 'xstate';
import type { FailureInfo } from '../common/failures.ts';
import type { Decoded } from '../common/payload-codec.ts';
import type { ExecutionDetail, QueryResult, RunSummary } from '../common/execution-types.ts';
import type { ExecutionStatus, HistoryEvent, MachineEvent } from '../common/history.ts';
import type { SearchAttributeType } from '../common/search-attributes.ts';

/**
 * What the client needs to know of a workflow definition to type a handle: its type name and
 * its machine. `workflow(machine)` from `perdure` returns one; the client never imports the
 * definition code itself (it only reads `type` when you pass one to `start`).
 *
 * @example
 * import type { orderWorkflow } from './machines/order.ts';
 * const handle = await client.start<typeof orderWorkflow>('order', { input: { orderId: 'o-1', amount: 42, items: [] } });
 */
export interface WorkflowLike<M extends AnyStateMachine = AnyStateMachine> {
  readonly type: string;
  readonly machine: M;
}

type MachineOf<W> = W extends { readonly machine: infer M extends AnyStateMachine } ? M : never;

// Each is `Decoded`: where the machine declares a field `Encoded<Card>`, the client (with its
// payload codec) takes and returns a `Card`.
/** The input of workflow `W` (`unknown` for an untyped handle). */
export type InputOf<W> = W extends WorkflowLike ? Decoded<InputFrom<MachineOf<W>>> : unknown;
/** The output of workflow `W` (`unknown` for an untyped handle). */
export type OutputOf<W> = W extends WorkflowLike ? Decoded<OutputFrom<MachineOf<W>>> : unknown;
/** The events workflow `W` takes (any `{ type }` for an untyped handle). */
export type EventOf<W> = W extends WorkflowLike ? Decoded<EventFromLogic<MachineOf<W>>> : MachineEvent;
/** The context of workflow `W` (`unknown` for an untyped handle). */
export type ContextOf<W> = W extends WorkflowLike ? Decoded<ContextFrom<MachineOf<W>>> : unknown;

/** An execution's current state, as `handle.query()` and `handle.update()` return it. */
export type WorkflowState<W = unknown> = QueryResult<ContextOf<W> | null>;

/** What `handle.describe()` returns: the description, with the current state beside it. */
export type WorkflowDescription<W = unknown> = ExecutionDetail<OutputOf<W>, ContextOf<W> | null>;

/** One execution in a listing. */
export type WorkflowExecutionSummary = RunSummary;

/** A page of `client.list()`; pass `nextPageToken` back for the next page. */
export interface WorkflowExecutionPage {
  executions: WorkflowExecutionSummary[];
  nextPageToken?: string;
}

/**
 * A registered workflow type and its versions, each with its machine definition (`toJSON()`),
 * its export (`stately.config` loads with `createMachine(config, { delays: stately.delays })`)
 * and the types of its search attributes.
 */
export interface WorkflowTypeInfo {
  type: string;
  versions: {
    version: string;
    definition: unknown;
    stately: { config: Record<string, unknown>; delays: Record<string, number> };
    searchAttributes: Record<string, SearchAttributeType>;
  }[];
}

export type { ExecutionStatus, HistoryEvent, MachineEvent, FailureInfo };
