/**
 * The types callers of the engine speak in: how to start a run, which run a call is for, what a
 * start made, and the observer told of what the engine does. In a file of their own so that the
 * engine's parts (run-starter, run-lookup, commit-effects) and its users (the hub, metrics) take
 * them from here, not from engine.ts, which imports those parts: no import circle.
 */
import type { MachineStepError } from '../common/errors.ts';
import type { HistoryEvent, MachineEvent } from '../common/history.ts';
import type { SearchAttributeFilterInput } from '../common/search-attributes.ts';
import type { ConflictPolicy, IdReusePolicy } from '../common/start-policies.ts';
import type { ListRunsQuery } from '../store/store.ts';
import type { SideEffectFailure } from './commit-effects.ts';

export interface EngineObserver {
  committed(events: readonly HistoryEvent[], run: { namespace: string; type: string }): void;
  /** A machine step was stopped (a limit broken) or threw, and was not committed: for the log. */
  stepStopped?(error: MachineStepError): void;
  /** A run's history reached `historyLimits.warnEvents` events. */
  historyWarning?(run: { namespace: string; workflowId: string; runId: string; type: string; lastSeq: number; historyBytes?: number }): void;
  /**
   * An inline action (not an activity) threw, or the promise it returned rejected. The step is
   * committed already and the run goes on; without this hook the engine writes to stderr.
   */
  sideEffectFailed?(failure: SideEffectFailure): void;
}

export interface StartOptions {
  workflowId?: string;
  input?: unknown;
  namespace?: string;
  /** A second start with the same key returns the run the first one made, before any policy applies. */
  idempotencyKey?: string;
  /** When the workflow id's latest run is closed: 'allow' (default), 'allowIfFailed', 'reject'. */
  idReusePolicy?: IdReusePolicy;
  /** When the workflow id has an open run: 'fail' (default), 'useExisting', 'terminateExisting'. */
  conflictPolicy?: ConflictPolicy;
}

export interface SignalWithStartOptions extends StartOptions {
  /** Required: the signal goes to the open run of this id, or to the run this call starts. */
  workflowId: string;
  event: MachineEvent;
  /** Default 'useExisting' (signal the open run); 'terminateExisting' replaces it; 'fail' refuses. */
  conflictPolicy?: ConflictPolicy;
}

/** The run a start made (`started: true`; also for a repeated idempotency key) or found open (`started: false`). */
export interface StartedRun {
  namespace: string;
  workflowId: string;
  runId: string;
  started: boolean;
}

/** A listing query as callers give it: the namespace defaults, search-attribute values may be text. */
export type EngineListQuery = Omit<Partial<ListRunsQuery>, 'searchAttributes'> & { searchAttributes?: SearchAttributeFilterInput };

export interface ExecutionRef {
  namespace?: string;
  workflowId: string;
  /** One run of the workflow id; default its current run (the open one, else the latest). */
  runId?: string;
}
