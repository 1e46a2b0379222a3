/**
 * The types callers of the engine speak in: how to start a run, which run a call is for, what a
 * start made, and the observer told of what the engine does. In a file of their own so that the
 * engine's parts (run-starter, run-lookup, commit-effects) and its users (the hub, metrics) take
 * them from here, not from engine.ts, which imports those parts: no import circle.
 */
import type { MachineStepError, PerdureError } from '../common/errors.ts';
import type { ExecutionDescription, ExecutionResult, MigrateResult, QueryResult } from '../common/execution-types.ts';
import type { HistoryEvent, MachineEvent } from '../common/history.ts';
import type { SearchAttributeFilterInput, SearchAttributeType } from '../common/search-attributes.ts';
import type { ConflictPolicy, IdReusePolicy } from '../common/start-policies.ts';
import type { StatelyExport } from '../definition/stately-export.ts';
import type { WorkflowDefinition } from '../definition/workflow.ts';
import type { CountRunsResult, ListRunsPage, ListRunsQuery } from '../store/store.ts';
import type { WorkerView } from '../common/worker-protocol.ts';
import type { SideEffectFailure } from './runtime/commit-effects.ts';
import type { MigrateOptions } from './runtime/migration.ts';
import type { NamespaceRegistry } from './runtime/namespaces.ts';

export interface EngineObserver {
  committed(events: readonly HistoryEvent[], run: { namespace: string; type: string }): void;
  /** A machine step was stopped (a limit broken) or threw, and was not committed: for the log. */
  stepStopped?(error: MachineStepError): void;
  /** Taking or dropping a shard failed (its tasks or timers could not be read): for the log. */
  shardFailed?(error: unknown): void;
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

/** One registered workflow type, with each of its versions, as `workflowTypes()` lists them. */
export interface WorkflowTypeListing {
  type: string;
  versions: { version: string; definition: unknown; stately: StatelyExport; searchAttributes: Record<string, SearchAttributeType> }[];
}

/**
 * What the hub (WebSocket client operations, the HTTP API, the web UI's routes) asks of the
 * executions. The engine implements it; a node of a cluster will put a forwarder to the owner
 * of an execution's shard behind the same interface, so nothing in the hub changes. Arguments
 * arrive checked by the hub's boundary (client-ops, http-api) and are checked again by the
 * engine only where a direct caller could get them wrong.
 */
export interface ExecutionService {
  start(type: string, options?: StartOptions): Promise<StartedRun>;
  signalWithStart(type: string, options: SignalWithStartOptions): Promise<StartedRun>;
  signal(ref: ExecutionRef, event: MachineEvent): Promise<void>;
  update(ref: ExecutionRef, event: MachineEvent): Promise<QueryResult>;
  cancel(ref: ExecutionRef, reason?: string): Promise<void>;
  terminate(ref: ExecutionRef, reason?: string): Promise<void>;
  reset(ref: ExecutionRef, options: { eventSeq: number; reason?: string }): Promise<{ runId: string }>;
  migrate(options: MigrateOptions): Promise<MigrateResult>;
  query(ref: ExecutionRef): Promise<QueryResult>;
  describe(ref: ExecutionRef): Promise<ExecutionDescription>;
  result(ref: ExecutionRef, options?: { timeoutMs?: number }): Promise<ExecutionResult>;
  history(ref: ExecutionRef): Promise<HistoryEvent[]>;
  list(query?: EngineListQuery): Promise<ListRunsPage>;
  count(query?: EngineListQuery): Promise<CountRunsResult>;
  workflowTypes(): WorkflowTypeListing[];
  /** The definition of one version of a type, for the UI's diagram and state path. */
  definition(type: string, version: string): WorkflowDefinition | undefined;
  /** The worker sessions connected (and recently closed), for the web UI's workers page. */
  workers(namespace?: string): WorkerView[];
  /** The namespaces (created, listed and updated through the hub's namespace operations). */
  readonly namespaces: NamespaceRegistry;
  /** Why the store stopped taking writes (fail-stop), if it did: /healthz reports it. */
  storeFailure(): PerdureError | undefined;
}
