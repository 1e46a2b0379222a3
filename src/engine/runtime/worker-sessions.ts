import { InvalidArgumentError } from '../../common/errors.ts';
import type { WorkerHandlers, WorkerRegistration, WorkerView } from '../../common/worker-protocol.ts';

/**
 * One worker connection's registration as the dispatcher keeps it: its free slots (the credit
 * of push flow control), the attempts pushed to it, and the figures the workers page shows.
 */
export interface Session {
  id: string;
  registration: WorkerRegistration;
  handlers: WorkerHandlers;
  free: number;
  closed: boolean;
  /** The engine's own session for local activities: not a worker, not listed. */
  internal: boolean;
  connectedAt: number;
  lastSeenAt: number;
  tasksCompleted: number;
  tasksFailed: number;
  closedAt?: number;
  /** Closed because its connection is gone (not a drain): its tasks have a grace period. */
  lost?: boolean;
  inFlight: Set<string>;
}

/** A session for a registration checked here, at the boundary, with every slot free. */
export function newSession(
  id: string, registration: WorkerRegistration, handlers: WorkerHandlers, { internal, now }: { internal: boolean; now: number },
): Session {
  validateRegistration(registration);
  return {
    id, registration, handlers, free: registration.slots, closed: false, internal, inFlight: new Set(),
    connectedAt: now, lastSeenAt: now, tasksCompleted: 0, tasksFailed: 0,
  };
}

/** What the web UI's workers page shows of a session. */
export function viewOf(s: Session): WorkerView {
  return {
    sessionId: s.id, identity: s.registration.identity, namespace: s.registration.namespace, taskQueue: s.registration.taskQueue,
    activityTypes: [...s.registration.activityTypes], slots: s.registration.slots, freeSlots: s.closed ? 0 : s.free,
    connectedAt: s.connectedAt, lastSeenAt: s.lastSeenAt, tasksCompleted: s.tasksCompleted, tasksFailed: s.tasksFailed,
    ...(s.closedAt === undefined ? {} : { closedAt: s.closedAt }),
  };
}

/** The task queue a session drains: one per namespace and queue name. */
export function queueKey(namespace: string, taskQueue: string): string {
  return `${namespace}\u0000${taskQueue}`;
}

/** '*' lets the engine's own local-activity session take every type. */
export function accepts(session: Session, activityType: string): boolean {
  const types = session.registration.activityTypes;
  return types.includes(activityType) || types.includes('*');
}

function validateRegistration(r: WorkerRegistration): void {
  if (typeof r.namespace !== 'string' || !r.namespace) throw new InvalidArgumentError('worker namespace must be a non-empty string');
  if (typeof r.taskQueue !== 'string' || !r.taskQueue) throw new InvalidArgumentError('worker taskQueue must be a non-empty string');
  if (!Array.isArray(r.activityTypes) || r.activityTypes.some((t) => typeof t !== 'string')) {
    throw new InvalidArgumentError('worker activityTypes must be an array of activity names');
  }
  if (!Number.isInteger(r.slots) || r.slots < 1) throw new InvalidArgumentError('worker slots (maxConcurrentActivities) must be a whole number ≥ 1');
}
