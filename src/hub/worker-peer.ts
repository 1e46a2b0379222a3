import { InvalidArgumentError, ProtocolError } from '../common/errors.ts';
import { describeZodError, workerFrame, type WorkerFrame } from '../common/wire.ts';
import type { WorkerConnection, WorkerSession } from '../common/worker-protocol.ts';
import { errorFrame } from './client-peer.ts';
import type { PeerContext, PeerRole } from './peer-connection.ts';
import type { NodeList } from '../cluster/cluster-membership.ts';
import type { TaskReport } from '../cluster/task-report-forwarder.ts';

/** What a worker connection needs of the cluster (absent on a single node). */
export interface WorkerPeerCluster {
  /** The live nodes, pushed to a worker whose hello said `cluster: true` whenever they change. */
  nodes?: NodeList;
  /** Sends a report on a task of a shard held elsewhere to its owner; undefined when it is held here. */
  forwarder?: { forward(namespace: string, report: TaskReport): Promise<unknown> | undefined };
}

/**
 * A worker connection. `register` opens an engine session for a task queue; tasks are pushed
 * as `task` frames up to the slots the worker announced (credit: a slot comes back with each
 * complete or fail). A worker may register several task queues on one connection; `unregister`
 * stops the pushes of one (graceful shutdown) while its tasks in flight may still be reported.
 *
 * When the connection drops, its tasks in flight stay with the engine: a worker that
 * reconnects may still report them (tokens name the attempt, not the connection); otherwise
 * their start-to-close or heartbeat timeout — or the worker-lost grace period — retries them.
 *
 * In a cluster, a worker that follows it (hello `cluster: true`) is told of node changes, and
 * may change its credit (`slots`) as it shares its limit between nodes; a report on a task of a
 * shard another node holds (its worker lost the node it had the task from) is forwarded there.
 */
export function workerPeer(context: PeerContext, connection: WorkerConnection, onConnectionChange: (delta: number) => void, cluster: WorkerPeerCluster = {}): PeerRole {
  onConnectionChange(1);
  const unsubscribe = context.hello.cluster ? cluster.nodes?.subscribe(({ nodes }) => context.send({ t: 'nodes', nodes })) : undefined;
  const sessions = new Map<string, WorkerSession>();
  const drained = new Set<WorkerSession>();
  /** The session that reports go through; any works, as tokens carry everything. */
  let reporter: WorkerSession | undefined;
  let open = true;
  /** A registration reading its namespace from the store, if any (see readNamespace). */
  let registering: Promise<void> | undefined;

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
          // Names starting with "__" belong to the server (its local-activity queue is "__local__"):
          // a remote worker registered there would be handed the server's own tasks.
          if (frame.taskQueue.startsWith('__')) throw new InvalidArgumentError(`task queue "${frame.taskQueue}" is reserved: names starting with "__" belong to the server`);
          const reading = readNamespace();
          if (reading) await reading; // only then: a known namespace opens the session in this turn, before any report frame after it
          // Checked after the lookup: a second register of the queue may have come in meanwhile.
          if (sessions.has(frame.taskQueue)) throw new ProtocolError('PROTOCOL_ERROR', `task queue "${frame.taskQueue}" is already registered on this connection`);
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
      case 'slots':
        answer(frame.id, async () => {
          const resized = sessions.get(frame.taskQueue);
          if (!resized) throw new InvalidArgumentError(`task queue "${frame.taskQueue}" is not registered on this connection`);
          resized.resize?.(frame.slots);
          return { taskQueue: frame.taskQueue, slots: frame.slots };
        });
        return;
      case 'complete':
        answer(frame.id, afterRegistration(() => elsewhere({ kind: 'complete', taskToken: frame.taskToken, output: frame.output }) ?? session().complete(frame.taskToken, frame.output)));
        return;
      case 'fail':
        answer(frame.id, afterRegistration(() => elsewhere({ kind: 'fail', taskToken: frame.taskToken, failure: frame.failure as never })
          ?? session().fail(frame.taskToken, frame.failure as never)));
        return;
      case 'heartbeat':
        answer(frame.id, afterRegistration(() => elsewhere({ kind: 'heartbeat', taskToken: frame.taskToken, details: frame.details })
          ?? session().heartbeat(frame.taskToken, frame.details)));
        return;
    }
  }

  /**
   * Reads the connection's namespace when this node does not know it yet (another node may have
   * made it a moment ago). Reports that come after the register frame wait for it, as they would
   * have found the session otherwise; a known namespace costs no wait at all.
   */
  function readNamespace(): Promise<void> | undefined {
    const reading = connection.lookUpNamespace?.(context.hello.namespace);
    if (!reading) return undefined;
    const settled = reading.catch(() => {});
    registering = settled;
    void settled.then(() => {
      if (registering === settled) registering = undefined;
    });
    return reading;
  }

  /** `report`, run at once, or once a registration reading its namespace is done. */
  function afterRegistration(report: () => Promise<unknown>): () => Promise<unknown> {
    return () => (registering ? registering.then(report) : report());
  }

  /** The owner's answer when the token's shard is another node's; undefined when it is this node's. */
  function elsewhere(report: TaskReport): Promise<unknown> | undefined {
    if (!cluster.forwarder) return undefined;
    session(); // reports come after a registration, wherever they go
    return cluster.forwarder.forward(context.hello.namespace, report);
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
        const known = ['register', 'unregister', 'slots', 'complete', 'fail', 'heartbeat'].includes(String(raw.t));
        if (id === undefined || !known) throw new ProtocolError('PROTOCOL_ERROR', `not a worker frame: ${describeZodError(parsed.error)}`);
        context.send({ t: 'error', id, code: 'INVALID_ARGUMENT', message: `INVALID_ARGUMENT: ${describeZodError(parsed.error)}` });
        return;
      }
      handle(parsed.data);
    },
    closed() {
      if (!open) return;
      open = false;
      unsubscribe?.();
      onConnectionChange(-1);
      // Sessions that were draining are lost too now: their tasks get the grace period.
      for (const s of [...sessions.values(), ...drained]) s.close('lost');
    },
  };
}

