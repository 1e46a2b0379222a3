import { toFailureInfo } from '../../common/failures.ts';
import type { ActivityTask, WorkerSession } from '../../common/worker-protocol.ts';
import { resolveActorLogic } from '../../definition/resolve-actor.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import type { ActivityDispatcher } from './activity-dispatcher.ts';
import { PerdureError } from '../../common/errors.ts';

/** The task queue local activities go through (per namespace). Not a name workers can use. */
export const LOCAL_TASK_QUEUE = '__local__';

/**
 * Runs local activities — `fromPromise` actors invoked by a machine — inside the engine. They
 * go through the same dispatcher as worker activities, so they get the same retries, timeouts
 * and crash recovery: an attempt in flight at a crash runs again after restart.
 */
export class LocalActivityRunner {
  private readonly sessions = new Map<string, WorkerSession>();
  private readonly aborts = new Map<string, AbortController>();

  constructor(
    private readonly dispatcher: ActivityDispatcher,
    private readonly definitionOf: (task: ActivityTask) => Promise<WorkflowDefinition | undefined>,
    private readonly slots = 200,
  ) {}

  /** Opens the local session for a namespace on first use. */
  ensure(namespace: string): void {
    if (this.sessions.has(namespace)) return;
    const session = this.dispatcher.openSession(
      { namespace, taskQueue: LOCAL_TASK_QUEUE, activityTypes: ['*'], slots: this.slots, identity: 'local' },
      {
        onTask: (task) => void this.run(session, task),
        onCancel: (token) => this.aborts.get(token)?.abort(),
      },
      { internal: true },
    );
    this.sessions.set(namespace, session);
  }

  close(): void {
    for (const session of this.sessions.values()) session.close();
    for (const abort of this.aborts.values()) abort.abort();
    this.sessions.clear();
  }

  private async run(session: WorkerSession, task: ActivityTask): Promise<void> {
    const abort = new AbortController();
    this.aborts.set(task.taskToken, abort);
    let outcome: { ok: true; output: unknown } | { ok: false; error: unknown };
    try {
      const definition = await this.definitionOf(task);
      const logic = definition && resolveActorLogic(definition.machine, task.activityType);
      const create = (logic as { config?: unknown } | undefined)?.config;
      if (typeof create !== 'function') throw new PerdureError('INVALID_DEFINITION', `local activity "${task.activityType}" is not in the machine's setup({ actors }) of this version: register the version that has it.`);
      const output = await create({ input: task.input, signal: abort.signal, self: undefined, system: undefined, emit: () => {} });
      outcome = { ok: true, output };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      this.aborts.delete(task.taskToken);
    }
    const report = outcome.ok ? session.complete(task.taskToken, outcome.output) : session.fail(task.taskToken, toFailureInfo(outcome.error));
    await report.catch(() => {
      // Stale (cancelled or timed out meanwhile) or the engine stopped: nothing more to do.
    });
  }
}
