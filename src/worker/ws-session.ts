import type { FailureInfo } from '../common/failures.ts';
import type { WorkerHandlers, WorkerRegistration, WorkerSession } from '../common/worker-protocol.ts';

/** A completion or failure of one task, as sent to the server. */
export type ReportBody = { t: 'complete'; taskToken: string; output: unknown } | { t: 'fail'; taskToken: string; failure: FailureInfo };

/** What a session needs from the connection it belongs to (WsWorkerConnection). */
export interface SessionHost {
  /** Sends a report and keeps it, across reconnects, until the server answers it. */
  report(body: ReportBody): Promise<void>;
  /** Best-effort. */
  heartbeat(taskToken: string, details: unknown): Promise<{ cancelRequested: boolean }>;
  /** Stops tasks of the session's queue from being pushed; reports still go through. */
  unregister(session: WsSession): void;
  /** Changes the session's credit on this connection. */
  resize(session: WsSession, slots: number): void;
}

/** One task queue served over the connection; it lives as long as the connection, across sockets. */
export class WsSession implements WorkerSession {
  closed = false;
  /** The connection (SdkSocket generation) this session is registered on, if any. */
  registeredOn?: number;

  /** A copy: its `slots` change with resize(). */
  readonly registration: WorkerRegistration;

  constructor(
    private readonly connection: SessionHost,
    registration: WorkerRegistration,
    readonly handlers: WorkerHandlers,
  ) {
    this.registration = { ...registration };
  }

  /** A new credit on this connection (a worker sharing its limit between the nodes of a cluster). */
  resize(slots: number): void {
    this.connection.resize(this, slots);
  }

  complete(taskToken: string, output: unknown): Promise<void> {
    return this.connection.report({ t: 'complete', taskToken, output });
  }

  fail(taskToken: string, failure: FailureInfo): Promise<void> {
    return this.connection.report({ t: 'fail', taskToken, failure });
  }

  heartbeat(taskToken: string, details?: unknown): Promise<{ cancelRequested: boolean }> {
    return this.connection.heartbeat(taskToken, details);
  }

  /** A graceful close: the server drains (see WorkerSession.close). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.unregister(this);
  }
}
