import type { FailureInfo } from './failures.ts';

/**
 * What a worker and the server say to each other, independent of transport. The engine serves
 * it in-process (`engine` is a `WorkerConnection`); the WebSocket hub serves the same shape
 * over the wire.
 *
 * ```
 *  worker                         server
 *    │── openSession(queue, slots) ─►│
 *    │◄──────────── task (token) ────│   at most `slots` tasks in flight (credit)
 *    │── heartbeat(token, details) ─►│   → { cancelRequested }
 *    │── complete(token, output) ───►│   refused (TASK_TOKEN_STALE) if the attempt moved on
 *    │◄──────────── cancel(token) ───│   the invoking state was exited: abort ctx.signal
 * ```
 */
export interface WorkerConnection {
  openSession(registration: WorkerRegistration, handlers: WorkerHandlers): WorkerSession;
  /**
   * Reads a namespace this server has not seen from the store, before a registration in it is
   * refused: in a cluster another node may have made it a moment ago. Undefined when the
   * namespace is known already: nothing to wait for.
   */
  lookUpNamespace?(name: string): Promise<void> | undefined;
}

export interface WorkerRegistration {
  namespace: string;
  taskQueue: string;
  /** Activity types this worker can run; tasks of other types are not pushed to it. */
  activityTypes: string[];
  /** How many tasks may be in flight on this worker at once. */
  slots: number;
  identity?: string;
}

export interface WorkerHandlers {
  onTask(task: ActivityTask): void;
  /** The server no longer wants this attempt (cancelled, timed out): abort it. */
  onCancel(taskToken: string, reason: string): void;
}

export interface WorkerSession {
  /** Reports the result of a task; frees its slot. Rejects with TASK_TOKEN_STALE when the attempt moved on. */
  complete(taskToken: string, output: unknown): Promise<void>;
  /** Reports a failed attempt; the server decides whether to retry. */
  fail(taskToken: string, failure: FailureInfo): Promise<void>;
  /** Records progress details and keeps the heartbeat timeout from firing. */
  heartbeat(taskToken: string, details?: unknown): Promise<{ cancelRequested: boolean }>;
  /**
   * Stops new tasks from being pushed; tasks in flight may still be reported. `'drain'` (a
   * graceful shutdown) waits for them as long as their timeouts allow; `'lost'` (the default: the
   * connection is gone) gives the worker a grace period to come back and report, then retries.
   */
  close(mode?: 'drain' | 'lost'): void;
  /**
   * Changes how many tasks may be in flight on this session from now on (a worker sharing its
   * limit between the nodes of a cluster). Tasks already in flight above a smaller limit finish;
   * no new one is pushed until the session is under it again.
   */
  resize?(slots: number): void;
}

/**
 * Reports on tasks without a worker session: what a node of a cluster runs when another node
 * forwards a worker's report to it, the holder of the task's shard (the worker's connection to
 * the node that pushed the task is gone). The token says everything; a stale one is refused.
 */
export interface TaskReports {
  complete(taskToken: string, output: unknown): Promise<void>;
  fail(taskToken: string, failure: FailureInfo): Promise<void>;
  heartbeat(taskToken: string, details: unknown): Promise<{ cancelRequested: boolean }>;
}

export interface ActivityTask {
  /** Names the namespace, run, activity and attempt; the idempotency key of the attempt. */
  taskToken: string;
  namespace: string;
  taskQueue: string;
  activityType: string;
  activityId: string;
  workflowId: string;
  workflowType: string;
  runId: string;
  /** 1-based. A crash re-dispatches the same attempt; a retry after failure increments it. */
  attempt: number;
  input: unknown;
  /** Details of the last heartbeat of an earlier attempt, to resume from. */
  heartbeatDetails?: unknown;
  scheduledAt: number;
  startToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
}

/** One worker session as the web UI's workers page shows it (`engine.workers()`). */
export interface WorkerView {
  /** Made by the server, stable for the session's life. */
  sessionId: string;
  identity?: string;
  namespace: string;
  taskQueue: string;
  activityTypes: string[];
  slots: number;
  /** Slots not holding a task (slots minus tasks pushed and not yet reported); 0 once closed. */
  freeSlots: number;
  connectedAt: number;
  /** Last time the worker was heard from (registered, heartbeat, completion, failure). */
  lastSeenAt: number;
  tasksCompleted: number;
  tasksFailed: number;
  /** Set once the session closed (worker disconnected or shut down); listed a while longer. */
  closedAt?: number;
}
