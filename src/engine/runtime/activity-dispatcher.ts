import { ForbiddenError, InvalidArgumentError } from '../../common/errors.ts';
import { toFailureInfo, TimeoutFailure, type FailureInfo } from '../../common/failures.ts';
import type { ActivityTask, WorkerHandlers, WorkerRegistration, WorkerSession, WorkerView } from '../../common/worker-protocol.ts';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import type { TaskRef } from '../core/task-token.ts';
import { TaskQueues } from './task-queues.ts';
import { accepts, newSession, queueKey, viewOf, type Session } from './worker-sessions.ts';

export type TaskRefWithToken = TaskRef & { taskToken: string };

/** How the dispatcher reports what happened to an attempt; the engine routes it to the execution. */
export interface DispatchHost {
  clock: Clock;
  completed(task: TaskRefWithToken, output: unknown): Promise<void>;
  failed(task: TaskRefWithToken, failure: FailureInfo): Promise<void>;
  heartbeat(task: TaskRefWithToken, details: unknown): Promise<{ cancelRequested: boolean }>;
  /** Reads a token; malformed ones throw INVALID_ARGUMENT before anything else looks at them. */
  parseToken(token: string): TaskRefWithToken;
}

export interface DispatchOptions {
  scheduleToStartTimeoutMs?: number;
  /** Absolute time at which the whole activity (all attempts) times out. */
  scheduleToCloseDeadline?: number;
}

interface Waiting {
  task: ActivityTask;
  options: DispatchOptions;
  timer?: TimerHandle;
}

interface Running {
  task: ActivityTask;
  session: Session;
  timers: TimerHandle[];
  heartbeatTimer?: TimerHandle;
}

/**
 * Task queues in memory, and the worker sessions that drain them. Tasks are pushed to a
 * session only while it has free slots (credit-based flow control); the four activity timeouts
 * are enforced here. What is queued here is always also in the store's task index, so a
 * restart rebuilds it (see Engine.recover).
 */
export class ActivityDispatcher {
  /** Attempts waiting for a worker, per queue: each taken out in O(1). */
  private readonly waiting = new TaskQueues<Waiting>();
  private readonly sessions = new Map<string, Set<Session>>();
  private readonly delayed = new Map<string, TimerHandle>();
  private readonly running = new Map<string, Running>();
  /** scheduleToClose deadlines, one per activity across its attempts, with the attempt now current. */
  private readonly deadlines = new Map<string, { handle: TimerHandle; task: ActivityTask }>();
  /** The session each task in flight was pushed to, by task token. */
  private readonly holders = new Map<string, Session>();
  /** Closed sessions, oldest first, listed by workers() for KEEP_CLOSED_MS after they closed. */
  private readonly closedSessions: Session[] = [];
  private sessionCount = 0;

  constructor(private readonly host: DispatchHost, private readonly workerLostGraceMs = 10_000) {}

  /** Queues an attempt, now or at `readyAt` (after a retry backoff). */
  enqueue(task: ActivityTask, readyAt: number, options: DispatchOptions = {}): void {
    const key = taskKey(task);
    this.remove(key, 'rescheduled');
    const deadline = this.deadlines.get(key);
    if (deadline) {
      // A retry: the deadline stays, but when it passes it must fail the attempt now current;
      // a report naming the first attempt would be refused as stale and the activity would hang.
      deadline.task = task;
    } else if (options.scheduleToCloseDeadline !== undefined) {
      const entry = { handle: undefined as TimerHandle, task };
      entry.handle = this.host.clock.setTimeout(() => {
        this.deadlines.delete(key);
        this.timeOut(key, entry.task, 'scheduleToClose');
      }, options.scheduleToCloseDeadline - this.host.clock.now());
      this.deadlines.set(key, entry);
    }
    const delay = readyAt - this.host.clock.now();
    if (delay > 0) {
      this.delayed.set(key, this.host.clock.setTimeout(() => {
        this.delayed.delete(key);
        this.push(task, options);
      }, delay));
      return;
    }
    this.push(task, options);
  }

  /** Forgets an attempt the execution no longer wants, telling its worker to abort. */
  cancel(runId: string, activityId: string, reason: string): void {
    const key = `${runId}/${activityId}`;
    this.remove(key, reason);
    const deadline = this.deadlines.get(key);
    if (deadline !== undefined) this.host.clock.clearTimeout(deadline.handle);
    this.deadlines.delete(key);
  }

  /** Forgets every attempt of a run (it was terminated), telling workers running them to abort. */
  cancelRun(runId: string, reason: string): void {
    const prefix = `${runId}/`;
    const keys = new Set<string>([...this.delayed.keys(), ...this.running.keys(), ...this.deadlines.keys(), ...this.waiting.keys()]);
    for (const key of keys) {
      if (key.startsWith(prefix)) this.cancel(runId, key.slice(prefix.length), reason);
    }
  }

  /**
   * Forgets every attempt of a run without telling the workers running them: the run's shard has
   * gone to another node, which takes a worker's report of a still-current attempt (forwarded
   * there), and whose push of the same attempt the worker joins to the run it has. Telling the
   * worker to abort would only make the new owner run the attempt again. The slots come back now:
   * the worker's report goes to the new owner, never here.
   */
  forgetRun(runId: string): void {
    const prefix = `${runId}/`;
    const keys = new Set<string>([...this.delayed.keys(), ...this.running.keys(), ...this.deadlines.keys(), ...this.waiting.keys()]);
    for (const key of keys) {
      if (!key.startsWith(prefix)) continue;
      const running = this.running.get(key);
      this.remove(key, 'the shard went to another node', { tell: false });
      if (running) this.release(running.session, running.task.taskToken);
      const deadline = this.deadlines.get(key);
      if (deadline !== undefined) this.host.clock.clearTimeout(deadline.handle);
      this.deadlines.delete(key);
    }
  }

  /** `internal`: the engine's own session (local activities), left out of workers(). */
  openSession(registration: WorkerRegistration, handlers: WorkerHandlers, { internal = false } = {}): WorkerSession {
    const session = newSession(`w${++this.sessionCount}`, registration, handlers, { internal, now: this.host.clock.now() });
    const queue = queueKey(registration.namespace, registration.taskQueue);
    const sessions = this.sessions.get(queue) ?? new Set<Session>();
    sessions.add(session);
    this.sessions.set(queue, sessions);
    // Not synchronously: the worker gets its session object back before its first task.
    queueMicrotask(() => this.pump(queue));
    // Invariant: a worker reports only tasks of its own namespace. The token is readable, so
    // without this check a worker of one namespace could settle another namespace's activities.
    const own = (token: string): TaskRefWithToken => {
      const task = this.host.parseToken(token);
      if (task.namespace !== registration.namespace) {
        throw new ForbiddenError(`task token names namespace "${task.namespace}", but this worker is registered in "${registration.namespace}".`);
      }
      return task;
    };
    const settle = async (token: string, outcome: 'tasksCompleted' | 'tasksFailed', report: (task: TaskRefWithToken) => Promise<void>) => {
      const task = own(token);
      session.lastSeenAt = this.host.clock.now();
      return this.settle(session, task, outcome, report);
    };
    return {
      complete: (token, output) => settle(token, 'tasksCompleted', (task) => this.host.completed(task, output)),
      fail: (token, failure) => settle(token, 'tasksFailed', (task) => this.host.failed(task, failure)),
      heartbeat: async (token, details) => {
        const task = own(token);
        session.lastSeenAt = this.host.clock.now();
        return this.heartbeatOf(task, details);
      },
      resize: (slots) => {
        if (!Number.isInteger(slots) || slots < 1) throw new InvalidArgumentError('worker slots must be a whole number ≥ 1');
        session.free += slots - session.registration.slots;
        session.registration = { ...session.registration, slots };
        if (!session.closed) queueMicrotask(() => this.pump(queue));
      },
      close: (mode = 'lost') => {
        if (!session.closed) {
          session.closed = true;
          session.closedAt = this.host.clock.now();
          sessions.delete(session);
          if (!session.internal) this.closedSessions.push(session);
        }
        if (mode === 'lost' && !session.lost) {
          session.lost = true;
          this.workerLost(session);
        }
      },
    };
  }

  /**
   * Reports on a task that a worker sent to another node of the cluster, which forwarded them
   * here, to the node holding the task's shard (the node the worker had it from is gone). No
   * session of this node says it: the slot goes back to whichever session here held the task.
   */
  readonly elsewhere = {
    // async: a malformed token rejects (INVALID_ARGUMENT) rather than throwing.
    complete: async (token: string, output: unknown) => this.settle(undefined, this.host.parseToken(token), 'tasksCompleted', (task) => this.host.completed(task, output)),
    fail: async (token: string, failure: FailureInfo) => this.settle(undefined, this.host.parseToken(token), 'tasksFailed', (task) => this.host.failed(task, failure)),
    heartbeat: async (token: string, details: unknown) => this.heartbeatOf(this.host.parseToken(token), details),
  };

  /** A report on `task`, through `session` (undefined: forwarded by another node). */
  private async settle(session: Session | undefined, task: TaskRefWithToken, outcome: 'tasksCompleted' | 'tasksFailed', report: (task: TaskRefWithToken) => Promise<void>): Promise<void> {
    const token = task.taskToken;
    // The slot goes back to the session that was given the task, whichever reports it (a
    // worker that reconnected reports through a new session).
    const holder = this.holders.get(token);
    if (holder) holder[outcome]++;
    if (holder && (holder === session || holder.closed)) {
      this.release(holder, token);
      this.finish(taskKey(task), token);
    } else if (holder) {
      // Another live session holds this attempt (the server re-dispatched it after a restart
      // and the first worker reported it): tell the holder to stop; its slot comes back when it
      // reports, which will be refused as stale.
      this.finish(taskKey(task), token);
      try {
        holder.handlers.onCancel(token, 'reported by another worker');
      } catch {
        // the holder's connection is gone; its close releases nothing more
      }
    }
    await report(task);
  }

  private async heartbeatOf(task: TaskRefWithToken, details: unknown): Promise<{ cancelRequested: boolean }> {
    const result = await this.host.heartbeat(task, details);
    this.rearmHeartbeat(taskKey(task));
    return result;
  }

  /**
   * A session closed with tasks in flight (its worker disconnected or shut down). The worker may
   * still report them, through a new session, within the grace period; after it, each attempt
   * fails as 'WorkerLost' and is retried per its policy.
   */
  private workerLost(session: Session): void {
    for (const token of session.inFlight) {
      const task = this.host.parseToken(token);
      const key = taskKey(task);
      const running = this.running.get(key);
      if (running?.task.taskToken !== token) {
        this.release(session, token); // no longer wanted (cancelled, timed out): nothing to wait for
        continue;
      }
      running.timers.push(this.host.clock.setTimeout(() => {
        this.release(session, token);
        this.remove(key, 'worker lost');
        this.host.failed({ ...task }, {
          code: 'APPLICATION_FAILURE', type: 'WorkerLost', message: `the worker running this attempt disconnected and did not report it within ${this.workerLostGraceMs} ms`,
        }).catch(() => {});
      }, this.workerLostGraceMs));
    }
  }

  /** Gives a task's slot back to the session it was pushed to. */
  private release(holder: Session, token: string): void {
    if (this.holders.get(token) !== holder) return;
    this.holders.delete(token);
    holder.inFlight.delete(token);
    holder.free++;
    const queue = queueKey(holder.registration.namespace, holder.registration.taskQueue);
    queueMicrotask(() => this.pump(queue));
  }

  /**
   * The worker sessions, for the web UI's workers page: open ones first, then those closed in
   * the last KEEP_CLOSED_MS; each group by namespace, task queue and age.
   */
  workers(namespace?: string): WorkerView[] {
    const cutoff = this.host.clock.now() - KEEP_CLOSED_MS;
    while (this.closedSessions.length > 0 && this.closedSessions[0]!.closedAt! < cutoff) this.closedSessions.shift();
    const open = [...this.sessions.values()].flatMap((set) => [...set]).filter((s) => !s.internal);
    return [...open, ...this.closedSessions]
      .filter((s) => namespace === undefined || s.registration.namespace === namespace)
      .sort((a, b) => Number(a.closed) - Number(b.closed) || a.registration.namespace.localeCompare(b.registration.namespace)
        || a.registration.taskQueue.localeCompare(b.registration.taskQueue) || a.connectedAt - b.connectedAt)
      .map(viewOf);
  }

  /** Tasks waiting for a worker, per queue (for metrics and tests). */
  backlog(): Record<string, number> {
    return this.waiting.sizes();
  }

  stop(): void {
    for (const handle of [...this.delayed.values(), ...[...this.deadlines.values()].map((d) => d.handle)]) this.host.clock.clearTimeout(handle);
    for (const r of this.running.values()) this.clearRunning(r);
    for (const w of this.waiting.clear()) this.host.clock.clearTimeout(w.timer);
    this.delayed.clear();
    this.deadlines.clear();
    this.running.clear();
  }

  private push(task: ActivityTask, options: DispatchOptions): void {
    const queue = queueKey(task.namespace, task.taskQueue);
    const waiting: Waiting = { task, options };
    if (options.scheduleToStartTimeoutMs !== undefined) {
      waiting.timer = this.host.clock.setTimeout(() => this.timeOut(taskKey(task), task, 'scheduleToStart'), options.scheduleToStartTimeoutMs);
    }
    this.waiting.add(queue, taskKey(task), waiting);
    this.pump(queue);
  }

  private pump(queue: string): void {
    const list = this.waiting.in(queue);
    const sessions = this.sessions.get(queue);
    if (!list.size || !sessions?.size) return;
    for (const [key, waiting] of list) {
      let chosen: Session | undefined;
      let anyFree = false;
      for (const s of sessions) {
        if (s.free <= 0) continue;
        anyFree = true;
        if (accepts(s, waiting.task.activityType)) {
          chosen = s;
          break;
        }
      }
      if (!anyFree) return; // no credit anywhere: stop scanning
      if (!chosen) continue;
      this.waiting.take(key);
      this.host.clock.clearTimeout(waiting.timer);
      this.start(waiting.task, chosen);
    }
  }

  private start(task: ActivityTask, session: Session): void {
    const key = taskKey(task);
    session.free--;
    session.inFlight.add(task.taskToken);
    this.holders.set(task.taskToken, session);
    const running: Running = { task, session, timers: [] };
    if (task.startToCloseTimeoutMs !== undefined) {
      running.timers.push(this.host.clock.setTimeout(() => this.timeOut(key, task, 'startToClose'), task.startToCloseTimeoutMs));
    }
    this.running.set(key, running);
    this.rearmHeartbeat(key);
    try {
      session.handlers.onTask(task);
    } catch {
      // A worker that cannot take the task is the same as one that died with it: the
      // start-to-close or heartbeat timeout retries it.
    }
  }

  private rearmHeartbeat(key: string): void {
    const running = this.running.get(key);
    if (!running || running.task.heartbeatTimeoutMs === undefined) return;
    this.host.clock.clearTimeout(running.heartbeatTimer);
    running.heartbeatTimer = this.host.clock.setTimeout(() => this.timeOut(key, running.task, 'heartbeat'), running.task.heartbeatTimeoutMs);
  }

  private timeOut(key: string, task: ActivityTask, type: 'startToClose' | 'scheduleToStart' | 'scheduleToClose' | 'heartbeat'): void {
    this.remove(key, `${type} timeout`);
    this.host.failed(this.host.parseToken(task.taskToken), toFailureInfo(new TimeoutFailure(type))).catch(() => {
      // The attempt moved on meanwhile (completed, cancelled): the timeout no longer matters.
    });
  }

  private finish(key: string, token: string): void {
    const running = this.running.get(key);
    if (running?.task.taskToken !== token) return;
    this.clearRunning(running);
    this.running.delete(key);
  }

  private remove(key: string, reason: string, { tell = true }: { tell?: boolean } = {}): void {
    const delayed = this.delayed.get(key);
    if (delayed !== undefined) this.host.clock.clearTimeout(delayed);
    this.delayed.delete(key);
    this.host.clock.clearTimeout(this.waiting.take(key)?.timer);
    const running = this.running.get(key);
    if (running) {
      this.clearRunning(running);
      this.running.delete(key);
      if (!tell) return;
      try {
        running.session.handlers.onCancel(running.task.taskToken, reason);
      } catch {
        // the worker is gone; its slot is freed when it reports or disconnects
      }
    }
  }

  private clearRunning(running: Running): void {
    for (const t of running.timers) this.host.clock.clearTimeout(t);
    this.host.clock.clearTimeout(running.heartbeatTimer);
  }
}

/** How long a closed worker session stays on the workers page. */
const KEEP_CLOSED_MS = 5 * 60_000;

function taskKey(task: { runId: string; activityId: string }): string {
  return `${task.runId}/${task.activityId}`;
}
