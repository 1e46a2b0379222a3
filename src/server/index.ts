/**
 * Running workflows: the engine, embedded in a process of your own.
 *
 * @example
 * import { Engine } from 'perdure/server';
 * const engine = await Engine.start({ workflows: [orderWorkflow], store: new LevelStore({ directory: './.perdure' }) });
 */
export { createServer, DEFAULT_PORT, type ServerOptions, type PerdureServer } from './create-server.ts';
export type { TokenGrant, Role } from '../hub/auth.ts';
export { Engine, type EngineOptions, type StartOptions, type SignalWithStartOptions, type StartedRun, type ExecutionRef, type ExecutionService } from '../engine/engine.ts';
export type { ExecutionDescription, ExecutionResult, QueryResult, ExecutionDetail, RunSummary } from '../common/execution-types.ts';
export { replayHistory, assertReplays, type ReplayResult, type Divergence } from '../engine/core/replay.ts';
export { ScheduleService, type ScheduleServiceOptions, type ScheduleRef } from '../schedules/schedule-service.ts';
export type {
  ScheduleOptions, ScheduleSpec, ScheduleAction, SchedulePolicies, ScheduleUpdate, ScheduleDescription, ScheduleSummary, SchedulePage,
  ScheduleActionResult, ScheduleCounts, ScheduleState, TriggerResult, OverlapPolicy,
} from '../common/schedule-types.ts';
export { LevelStore } from '../store/level-store.ts';
export { PostgresStore, type PostgresStoreOptions } from '../store/postgres/postgres-store.ts';
export type { Store, Durability } from '../store/store.ts';
export { systemClock, type Clock } from '../common/clock.ts';
export { NamespaceRegistry, type CreateNamespaceOptions, type UpdateNamespaceOptions } from '../engine/runtime/namespaces.ts';
export { RetentionSweeper, type RetentionOptions, type SweepReport } from '../engine/runtime/retention-sweeper.ts';
export { DEFAULT_NAMESPACE, DEFAULT_RETENTION_MS, type NamespaceInfo } from '../common/namespaces.ts';
