import { InvalidArgumentError, ProtocolError } from '../common/errors.ts';
import { describeZodError, workerFrame, type WorkerFrame } from '../common/wire.ts';
import type { WorkerConnection, WorkerSession } from '../common/worker-protocol.ts';
import { errorFrame } from './client-peer.ts';
import type { PeerContext, PeerRole } from './peer-connection.ts';

/**
 * A worker connection. `register` opens an engine session for a task queue; tasks are pushed
 * as `task` frames up to the slots the worker announced (credit: a slot comes back with each
 * complete or fail). A worker may register several task queues on one connection; `unregister`
 * stops the pushes of one (graceful shutdown) while its tasks in flight may still be reported.
 *
 * When the connection drops, its tasks in flight stay with the engine: a worker that
 * reconnects may still report them (tokens name the attempt, not the connection); otherwise
 * their start-to-close or heartbeat timeout — or the worker-lost grace period — retries them.
 */
export function workerPeer(context: PeerContext, connection: WorkerConnection, onConnectionChange: (delta: number) => void): PeerRole {
  onConnectionChange(1);
  const sessions = new Map<string, WorkerSession>();
  const drained = new Set<WorkerSession>();
  /** The session that reports go through; any works, as tokens carry everything. */
  let reporter: WorkerSession | undefined;
  let open = true;

  const answer = (id: number, work: () => Promise<unknown>) => {
    let release: () => void;
    try {
      release = context.track();
    } catch (error) {
      context.send(errorFrame(id, error));
      return;
    }
    work().then(
      (value) => open && context.send({ t: 'ok', id, value }),
      (error: unknown) => open && context.send(errorFrame(id, error)),
    ).finally(release);
  };

  const handlers = {
    onTask: (task: Parameters<Parameters<WorkerConnection['openSession']>[1]['onTask']>[0]) => context.send({ t: 'task', task }),
    onCancel: (taskToken: string, reason: string) => context.send({ t: 'cancel', taskToken, reason }),
  };

  function handle(frame: WorkerFrame): void {
    switch (frame.t) {
      case 'register':
        answer(frame.id, async () => {
          if (sessions.has(frame.taskQueue)) throw new ProtocolError('PROTOCOL_ERROR', `task queue "${frame.taskQueue}" is already registered on this connection`);
          // Names starting with "__" belong to the server (its local-activity queue is "__local__"):
          // a remote worker registered there would be handed the server's own tasks.
          if (frame.taskQueue.startsWith('__')) throw new InvalidArgumentError(`task queue "${frame.taskQueue}" is reserved: names starting with "__" belong to the server`);
          const session = connection.openSession({
            namespace: context.hello.namespace, taskQueue: frame.taskQueue, activityTypes: frame.activityTypes,
            slots: frame.slots, identity: context.hello.identity,
          }, handlers);
          sessions.set(frame.taskQueue, session);
          reporter ??= session;
          return { taskQueue: frame.taskQueue };
        });
        return;
      case 'unregister':
        answer(frame.id, async () => {
          // The session stays the reporter if it was one: tasks in flight may still be reported.
          const draining = sessions.get(frame.taskQueue);
          draining?.close('drain');
          sessions.delete(frame.taskQueue);
          if (draining) drained.add(draining);
          return { taskQueue: frame.taskQueue };
        });
        return;
      case 'complete':
        answer(frame.id, () => session().complete(frame.taskToken, frame.output));
        return;
      case 'fail':
        answer(frame.id, () => session().fail(frame.taskToken, frame.failure as never));
        return;
      case 'heartbeat':
        answer(frame.id, () => session().heartbeat(frame.taskToken, frame.details));
        return;
    }
  }

  function session(): WorkerSession {
    if (!reporter) throw new ProtocolError('PROTOCOL_ERROR', 'register a task queue before reporting tasks');
    return reporter;
  }

  return {
    handle(raw) {
      const parsed = workerFrame.safeParse(raw);
      if (!parsed.success) {
        const id = typeof raw.id === 'number' ? raw.id : undefined;
        const known = ['register', 'unregister', 'complete', 'fail', 'heartbeat'].includes(String(raw.t));
        if (id === undefined || !known) throw new ProtocolError('PROTOCOL_ERROR', `not a worker frame: ${describeZodError(parsed.error)}`);
        context.send({ t: 'error', id, code: 'INVALID_ARGUMENT', message: `INVALID_ARGUMENT: ${describeZodError(parsed.error)}` });
        return;
      }
      handle(parsed.data);
    },
    closed() {
      if (!open) return;
      open = false;
      onConnectionChange(-1);
      // Sessions that were draining are lost too now: their tasks get the grace period.
      for (const s of [...sessions.values(), ...drained]) s.close('lost');
    },
  };
}

