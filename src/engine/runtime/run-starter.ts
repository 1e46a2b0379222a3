import { randomUUID } from 'node:crypto';
import { ExecutionClosedError, PerdureError } from '../../common/errors.ts';
import type { ExecutionStatus, MachineEvent } from '../../common/history.ts';
import type { WorkflowDefinition } from '../../definition/workflow.ts';
import type { Store } from '../../store/store.ts';
import type { OutboxItem, PendingChild, RunRecord } from '../../common/run-model.ts';
import { KeyedQueue } from '../../common/keyed-queue.ts';
import type { Clock } from '../../common/clock.ts';
import type { StartedRun, StartOptions } from '../api.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { Execution } from './execution.ts';
import type { WorkflowRegistry } from '../core/registry.ts';
import { startAction } from '../core/start-policy.ts';

/**
 * Makes runs. Every start of a workflow id — a client's start or signal-with-start, a child a
 * parent starts, the run a run continues as, a reset — goes through that id's start queue, so
 * the check for an open run and the commit of the new one never interleave: two open runs of
 * one workflow id never exist.
 */
export class RunStarter {
  private readonly starting = new KeyedQueue();

  constructor(
    private readonly store: Store,
    private readonly executions: ExecutionCache,
    private readonly registry: WorkflowRegistry,
    private readonly clock: Clock,
  ) {}

  /** Runs `job` after every start of the same workflow id before it: the open-run check and the commit must not interleave. */
  serialised<T>(namespace: string, workflowId: string, job: () => Promise<T>): Promise<T> {
    return this.starting.run(KeyedQueue.key(namespace, workflowId), job);
  }

  /** A start (with `firstSignal`: a signal-with-start), in its workflow id's start queue. */
  start(definition: WorkflowDefinition, namespace: string, workflowId: string, options: StartOptions, firstSignal?: MachineEvent): Promise<StartedRun> {
    return this.serialised(namespace, workflowId, () => this.startLocked(definition, namespace, workflowId, options, firstSignal));
  }

  private async startLocked(definition: WorkflowDefinition, namespace: string, workflowId: string, options: StartOptions, firstSignal?: MachineEvent): Promise<StartedRun> {
    if (options.idempotencyKey !== undefined) {
      const runId = await this.store.findRunByIdempotencyKey(namespace, options.idempotencyKey);
      const run = runId && (await this.store.getRun(runId));
      if (run && run.workflowId === workflowId) return { namespace, workflowId, runId: run.runId, started: true };
    }
    const conflictPolicy = options.conflictPolicy ?? (firstSignal ? 'useExisting' : 'fail');
    // An open run may close (complete, time out) between our read and our signal: read again.
    for (let attempt = 1; ; attempt++) {
      const action = startAction(await this.latestRunHandedOver(namespace, workflowId), { namespace, workflowId, idReusePolicy: options.idReusePolicy, conflictPolicy });
      if (action.do === 'useExisting') {
        if (firstSignal) {
          try {
            await (await this.openRun(action.runId)).signal(firstSignal);
          } catch (error) {
            if (error instanceof ExecutionClosedError && attempt < 3) continue;
            throw error;
          }
        }
        return { namespace, workflowId, runId: action.runId, started: false };
      }
      const runId = randomUUID();
      // Terminate commits before the new run's start: two open runs of one id never exist. A
      // crash in between leaves the old run terminated and no new one; the caller retries.
      if (action.do === 'terminateThenStart') {
        await (await this.openRun(action.runId)).terminate(`replaced by run ${runId} of a new start with conflictPolicy "terminateExisting"`);
      }
      await this.createRun(definition, { runId, namespace, workflowId, idempotencyKey: options.idempotencyKey }, options.input, firstSignal);
      return { namespace, workflowId, runId, started: true };
    }
  }

  /** Makes a run and takes its first step; resolves once both are durable. */
  private async createRun(definition: WorkflowDefinition, fields: Pick<RunRecord, 'runId' | 'namespace' | 'workflowId' | 'idempotencyKey' | 'parent' | 'continuedFrom'>, input: unknown, firstSignal?: MachineEvent): Promise<void> {
    const execution = this.executions.create({
      ...fields, type: definition.type, version: definition.version,
      status: 'running', startedAt: this.clock.now(), lastSeq: 0, snapshot: null, activities: {}, timers: {},
    }, definition);
    try {
      await execution.begin(input, firstSignal);
    } catch (error) {
      this.executions.discard(execution); // a refused first step (or a failed commit) made no run
      throw error;
    }
  }

  /**
   * A parent's child, started as its own execution: under the child's workflow id's start queue,
   * with Temporal's child defaults (a closed run's id may be reused; an open one is a conflict).
   */
  async startChild(parent: Pick<RunRecord, 'namespace' | 'workflowId' | 'runId'>, child: PendingChild): Promise<void> {
    const definition = this.registry.latest(child.workflowType);
    const { namespace } = parent;
    await this.serialised(namespace, child.workflowId, async () => {
      if (await this.store.getRun(child.runId)) return; // made before a crash
      const action = startAction(await this.latestRunHandedOver(namespace, child.workflowId), { namespace, workflowId: child.workflowId, conflictPolicy: 'fail' });
      if (action.do !== 'start') throw new PerdureError('INTERNAL', `a child's start was planned as "${action.do}", which only a user's start can be: a bug in the start policy, please report it.`);
      const parentRef = { namespace, workflowId: parent.workflowId, runId: parent.runId, childId: child.childId };
      await this.createRun(definition, { runId: child.runId, namespace, workflowId: child.workflowId, parent: parentRef }, child.input);
    });
  }

  /** The run `from` continued as: the newest version of its type, the same workflow id and parent. */
  async startContinued(from: RunRecord, item: Extract<OutboxItem, { kind: 'continueAsNew' }>): Promise<void> {
    await this.serialised(from.namespace, from.workflowId, () => this.createContinued(from, item));
  }

  /** startContinued, inside the workflow id's start queue. */
  private async createContinued(from: RunRecord, item: Extract<OutboxItem, { kind: 'continueAsNew' }>): Promise<void> {
    if (await this.store.getRun(item.runId)) return; // made before a crash
    // A start that took the workflow id after `from` closed wins; the chain ends there.
    if ((await this.latestRun(from.namespace, from.workflowId))?.runId !== from.runId) return;
    await this.createRun(this.registry.latest(from.type), {
      runId: item.runId, namespace: from.namespace, workflowId: from.workflowId, parent: from.parent, continuedFrom: from.runId,
    }, item.input);
  }

  /**
   * The latest run of a workflow id as a start must see it, inside the id's start queue. A run
   * that continued as new is not over: its chain goes on in a run the outbox makes a moment
   * later (or after a crash). That run is made now (idempotent), so that the start finds the
   * chain open: judged on the closed run instead, a start would take the workflow id, and the
   * chain, its state and the signals it holds would end there (the outbox's hand-over gives way
   * to a start that came first).
   */
  private async latestRunHandedOver(namespace: string, workflowId: string): Promise<{ runId: string; status: ExecutionStatus } | undefined> {
    for (;;) {
      const latest = await this.latestRun(namespace, workflowId);
      if (latest?.status !== 'continuedAsNew') return latest;
      const from = await this.store.getRun(latest.runId);
      const handOver = from?.outbox?.continueAsNew;
      // Handed over already (the successor is the latest run once its first commit is durable).
      if (!from || handOver?.kind !== 'continueAsNew' || (await this.store.getRun(handOver.runId))) return latest;
      await this.createContinued(from, handOver);
    }
  }

  /** The latest run of a workflow id, with its current status (blocked overlaid). */
  async latestRun(namespace: string, workflowId: string): Promise<{ runId: string; status: ExecutionStatus } | undefined> {
    const live = this.executions.openByWorkflow(namespace, workflowId);
    if (live) return { runId: live.runId, status: live.run.status };
    const currentId = await this.store.getCurrentRunId(namespace, workflowId);
    const current = currentId ? await this.executions.record(currentId) : undefined;
    return current && { runId: current.runId, status: current.status };
  }

  async openRun(runId: string): Promise<Execution> {
    return (await this.executions.load(runId)) ?? this.executions.openOrThrow(runId);
  }
}
