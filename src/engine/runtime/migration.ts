import { InvalidArgumentError, PerdureError } from '../../common/errors.ts';
import type { MigrateResult } from '../../common/execution-types.ts';
import type { Store } from '../../store/store.ts';
import type { RunSummary } from '../../common/execution-types.ts';
import type { ExecutionCache } from './execution-cache.ts';
import type { WorkflowRegistry } from '../core/registry.ts';
import { KeyedQueue } from '../../common/keyed-queue.ts';
import { validateId } from '../core/validate-input.ts';

export interface MigrateOptions {
  namespace?: string;
  type: string;
  /** The version whose open runs move. */
  fromVersion: string;
  /** Default: the newest registered version of the type. */
  toVersion?: string;
  /** Only these workflow ids (default: every open run on `fromVersion`). */
  workflowIds?: string[];
}

interface MigrationDeps {
  store: Store;
  registry: WorkflowRegistry;
  /** The executions of the shard a workflow id is in; undefined when this node does not hold it. */
  executionsOf(namespace: string, workflowId: string): ExecutionCache | undefined;
  /** The node's queue of migrations, one at a time per key. */
  queue: KeyedQueue;
}

/**
 * Moves the open runs of `type` on version `fromVersion` to version `toVersion` (default: the
 * newest registered) with the target definition's migration function for `fromVersion`. Runs
 * on a version no longer registered (blocked) can be moved too. Each run moves on its own: a
 * run whose state the migration cannot map is reported and left as it was.
 */
export async function migrateRuns(deps: MigrationDeps, namespace: string, options: MigrateOptions): Promise<MigrateResult> {
  const { registry } = deps;
  const type = validateId(options.type, 'type');
  const fromVersion = validateId(options.fromVersion, 'fromVersion');
  const target = options.toVersion === undefined ? registry.latest(type) : registry.get(type, options.toVersion);
  if (!target) {
    const registered = registry.types().find((t) => t.type === type)?.versions.join(', ') ?? 'none';
    throw new InvalidArgumentError(`version ${options.toVersion} of "${type}" is not registered (registered: ${registered})`);
  }
  if (target.version === fromVersion) throw new InvalidArgumentError(`runs on version ${fromVersion} are on the target version already`);
  const migration = target.migrations[fromVersion];
  if (!migration) {
    throw new InvalidArgumentError(`"${type}" version ${target.version} has no migration from version ${fromVersion}: give workflow(machine, { migrations: { '${fromVersion}': ({ value, context }) => ({ value, context }) } })`);
  }
  const only = options.workflowIds && new Set(options.workflowIds.map((id) => validateId(id, 'workflowIds[]')));
  // One migration at a time per type: a blocked run has no mailbox to serialise two.
  return deps.queue.run(KeyedQueue.key(namespace, type), async () => {
    const result: MigrateResult = { toVersion: target.version, migrated: [], failed: [] };
    for (const run of await openRunsOn(deps.store, namespace, type, fromVersion)) {
      if (only && !only.has(run.workflowId)) continue;
      const executions = deps.executionsOf(namespace, run.workflowId);
      if (!executions) {
        result.failed.push({ workflowId: run.workflowId, runId: run.runId, code: 'SHARD_NOT_HELD', message: 'another server of the cluster holds this execution: migrate it there' });
        continue;
      }
      const execution = await executions.adopt(run.runId, target);
      if (!execution || execution.run.version !== fromVersion) continue;
      try {
        await execution.migrate(target, migration);
        executions.admit(execution);
        result.migrated.push({ workflowId: run.workflowId, runId: run.runId });
      } catch (error) {
        const { code, message } = error instanceof PerdureError ? error : { code: 'INVALID_ARGUMENT', message: String((error as Error)?.message ?? error) };
        result.failed.push({ workflowId: run.workflowId, runId: run.runId, code, message });
      }
    }
    return result;
  });
}

async function openRunsOn(store: Store, namespace: string, type: string, version: string): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  let pageToken: string | undefined;
  do {
    const page = await store.listRuns({ namespace, type, status: 'running', limit: 1000, pageToken });
    runs.push(...page.runs.filter((r) => r.version === version));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs;
}
