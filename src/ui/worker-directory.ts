import type { WorkerConnection, WorkerHandlers, WorkerRegistration, WorkerSession } from '../common/worker-protocol.ts';

/** One worker session as the workers page shows it. */
export interface WorkerView {
  /** Made here, stable for the session's life. */
  sessionId: string;
  identity?: string;
  namespace: string;
  taskQueue: string;
  activityTypes: string[];
  slots: number;
  /** Slots not holding a task (slots minus tasks pushed and not yet reported). */
  freeSlots: number;
  connectedAt: number;
  /** Last time the worker was heard from (registered, heartbeat, completion, failure). */
  lastSeenAt: number;
  tasksCompleted: number;
  tasksFailed: number;
  /** Set once the session closed (worker disconnected or shut down); kept a while for the page. */
  closedAt?: number;
}

interface Tracked extends WorkerView {
  inFlight: Set<string>;
}

/**
 * Who is connected, for `GET /api/v1/workers`. The engine keeps worker sessions private, so this
 * decorates the engine's `openSession` (the one door both the WebSocket hub and in-process
 * workers come through) and mirrors the dispatcher's credit bookkeeping: a slot is taken when a
 * task is pushed and given back when its completion or failure is reported through any session
 * (a reconnected worker reports through a new one). Closed sessions stay listed for
 * `keepClosedMs`.
 *
 * TODO(engine): an `engine.workers()` read of the dispatcher's sessions would make this exact
 * and remove the decoration.
 *
 * @example
 * const workers = WorkerDirectory.attach(engine);
 * workers.list(); // [{ taskQueue: 'orders', slots: 10, freeSlots: 9, … }]
 */
export class WorkerDirectory {
  private readonly sessions = new Map<string, Tracked>();
  /** The session each task in flight was pushed to, by task token. */
  private readonly holders = new Map<string, Tracked>();
  private next = 0;

  private constructor(private readonly now: () => number, private readonly keepClosedMs: number) {}

  /** Wraps `connection.openSession` so every session opened from now on is listed. */
  static attach(connection: WorkerConnection, options: { now?: () => number; keepClosedMs?: number } = {}): WorkerDirectory {
    const directory = new WorkerDirectory(options.now ?? Date.now, options.keepClosedMs ?? 5 * 60_000);
    const open = connection.openSession.bind(connection);
    connection.openSession = (registration, handlers) => directory.track(registration, handlers, open);
    return directory;
  }

  /** Open sessions first, then recently closed ones; each group by task queue. */
  list(namespace?: string): WorkerView[] {
    const cutoff = this.now() - this.keepClosedMs;
    for (const [id, s] of this.sessions) if (s.closedAt !== undefined && s.closedAt < cutoff) this.sessions.delete(id);
    return [...this.sessions.values()]
      .filter((s) => namespace === undefined || s.namespace === namespace)
      .sort((a, b) => Number(a.closedAt !== undefined) - Number(b.closedAt !== undefined) || a.namespace.localeCompare(b.namespace) || a.taskQueue.localeCompare(b.taskQueue) || a.connectedAt - b.connectedAt)
      .map(({ inFlight, ...view }) => ({ ...view, activityTypes: [...view.activityTypes], freeSlots: view.closedAt === undefined ? view.slots - inFlight.size : 0 }));
  }

  private track(registration: WorkerRegistration, handlers: WorkerHandlers, open: WorkerConnection['openSession']): WorkerSession {
    const now = this.now();
    const tracked: Tracked = {
      sessionId: `w${++this.next}`, identity: registration.identity, namespace: registration.namespace, taskQueue: registration.taskQueue,
      activityTypes: [...registration.activityTypes], slots: registration.slots, freeSlots: registration.slots,
      connectedAt: now, lastSeenAt: now, tasksCompleted: 0, tasksFailed: 0, inFlight: new Set(),
    };
    const session = open(registration, {
      onTask: (task) => {
        tracked.inFlight.add(task.taskToken);
        this.holders.set(task.taskToken, tracked);
        handlers.onTask(task);
      },
      onCancel: (taskToken, reason) => handlers.onCancel(taskToken, reason),
    });
    // Only listed once the engine accepted the registration (it validates it).
    this.sessions.set(tracked.sessionId, tracked);
    const report = (token: string, outcome: 'tasksCompleted' | 'tasksFailed') => {
      tracked.lastSeenAt = this.now();
      const holder = this.holders.get(token);
      if (!holder) return;
      this.holders.delete(token);
      holder.inFlight.delete(token);
      holder[outcome]++;
    };
    return {
      complete: (token, output) => {
        report(token, 'tasksCompleted');
        return session.complete(token, output);
      },
      fail: (token, failure) => {
        report(token, 'tasksFailed');
        return session.fail(token, failure);
      },
      heartbeat: (token, details) => {
        tracked.lastSeenAt = this.now();
        return session.heartbeat(token, details);
      },
      // The mode goes through: a 'drain' (graceful shutdown) lets the tasks in flight finish on
      // this worker, where a 'lost' one has them retried after the grace period.
      close: (mode) => {
        if (tracked.closedAt === undefined) tracked.closedAt = this.now();
        // Tasks it still held are no longer this session's to show; a drained one may still
        // report them, through this wrapper (report() ignores tokens it forgot).
        for (const token of tracked.inFlight) this.holders.delete(token);
        tracked.inFlight.clear();
        session.close(mode);
      },
    };
  }
}
