import type { Clock } from '../common/clock.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { ScheduleStore } from '../store/store.ts';
import type { ScheduleEngine } from './schedule-engine.ts';

/** What ScheduleService.start takes. */
export interface ScheduleServiceOptions {
  /** The engine that starts the workflows (`Engine` fits as it is). */
  engine: ScheduleEngine;
  /** Where schedule records live: the engine's store. */
  store: ScheduleStore;
  /**
   * Which shards this node holds: only their schedules run here (schedule-shards.ts). Default:
   * the store's (`store.shards()`), or, for a store without shards, one node holding them all.
   * Another one must hash as the store does: the store's `listSchedules({ shards })` loads them.
   */
  shards?: ShardOwnership;
  /** Default: the system clock. Give the engine's clock (a TestClock in tests). */
  clock?: Clock;
  /** Told of actions that could not be taken now (retried) and of unexpected failures. */
  logger?: ScheduleLogger;
}

/** The part of a pino logger the service uses. */
export interface ScheduleLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** A schedule by id; the namespace defaults to 'default'. */
export interface ScheduleRef {
  namespace?: string;
  scheduleId: string;
}
