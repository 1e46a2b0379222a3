import type { ExecutionService } from '../engine/api.ts';
import type { ScheduleEngine } from '../schedules/schedule-engine.ts';

/**
 * The engine a node's schedules start their workflows on: the cluster's (ClusterService), so an
 * action whose workflow id falls in another node's shard is started there, and its overlap
 * checks (describe) and bufferOne waits (result) are asked there too. The workflow types are
 * this node's registry's: every node of a cluster runs the same workflows.
 *
 * @example
 * ScheduleService.start({ engine: routedScheduleEngine(new ClusterService(engine, ownership, peers), engine), store, shards: ownership });
 */
export function routedScheduleEngine(cluster: ExecutionService, local: Pick<ScheduleEngine, 'registry'>): ScheduleEngine {
  return {
    start: (type, options) => cluster.start(type, options),
    describe: (ref) => cluster.describe(ref),
    result: (ref) => cluster.result(ref),
    registry: local.registry,
  };
}
