import { describe, expect, it } from 'vitest';
import type { ActivityTask, WorkerConnection, WorkerHandlers, WorkerRegistration, WorkerSession } from '../../../src/common/worker-protocol.ts';
import { WorkerDirectory } from '../../../src/ui/worker-directory.ts';

/** A connection that records sessions and lets the test push tasks to them. */
function fakeConnection() {
  const opened: { registration: WorkerRegistration; handlers: WorkerHandlers; closed: boolean }[] = [];
  const connection: WorkerConnection = {
    openSession(registration, handlers): WorkerSession {
      const entry = { registration, handlers, closed: false };
      opened.push(entry);
      return {
        complete: async () => {},
        fail: async () => {},
        heartbeat: async () => ({ cancelRequested: false }),
        close: () => { entry.closed = true; },
      };
    },
  };
  return { connection, opened };
}

const task = (token: string): ActivityTask => ({
  taskToken: token, namespace: 'default', taskQueue: 'orders', activityType: 'chargeCard', activityId: 'charge',
  workflowId: 'o-1', workflowType: 'order', runId: 'r-1', attempt: 1, input: {}, scheduledAt: 0,
});

describe('WorkerDirectory', () => {
  it('lists sessions with their free slots, taken by pushed tasks and given back by reports through any session', async () => {
    let now = 1_000;
    const { connection, opened } = fakeConnection();
    const directory = WorkerDirectory.attach(connection, { now: () => now, keepClosedMs: 60_000 });
    const received: string[] = [];
    const a = connection.openSession({ namespace: 'default', taskQueue: 'orders', activityTypes: ['chargeCard'], slots: 3, identity: 'w-a' }, { onTask: (t) => received.push(t.taskToken), onCancel: () => {} });
    opened[0]!.handlers.onTask(task('t1'));
    opened[0]!.handlers.onTask(task('t2'));
    expect(received).toEqual(['t1', 't2']);
    expect(directory.list()).toMatchObject([{ identity: 'w-a', taskQueue: 'orders', slots: 3, freeSlots: 1, connectedAt: 1_000 }]);

    // The worker reconnects and reports t1 through its new session: the old session's slot comes back.
    const b = connection.openSession({ namespace: 'default', taskQueue: 'orders', activityTypes: ['chargeCard'], slots: 3, identity: 'w-a' }, { onTask: () => {}, onCancel: () => {} });
    now = 2_000;
    await b.complete('t1', {});
    expect(directory.list()[0]).toMatchObject({ freeSlots: 2, tasksCompleted: 1 });
    expect(directory.list()[1]).toMatchObject({ lastSeenAt: 2_000 });

    a.close();
    expect(opened[0]!.closed).toBe(true);
    const listed = directory.list();
    expect(listed.map((w) => w.closedAt)).toEqual([undefined, 2_000]); // open first
    now = 2_000 + 60_001;
    expect(directory.list()).toHaveLength(1);
    expect(directory.list('other')).toHaveLength(0);
  });
});
