/**
 * Tools for testing workflows and stores: an engine on a temp store, on virtual time if you
 * like; in-process workers for your activities; replay of recorded histories to prove a machine
 * still decides what it decided (determinism, in your own CI); the store conformance suite.
 *
 * @example
 * import { createTestEnvironment, replayHistory } from 'perdure/testing';
 * const env = await createTestEnvironment({ workflows: [orderWorkflow], workers: [{ taskQueue: 'orders', activities }], timeSkipping: true });
 * const { workflowId } = await env.engine.start('order', { input });
 * await env.engine.result({ workflowId }); // timers and retry backoffs are skipped, not waited for
 * expect(replayHistory(orderWorkflow, await env.engine.history({ workflowId })).ok).toBe(true);
 * await env.cleanup();
 */
export { createTestEngine, type TestEngine, type TestEngineOptions } from './test-engine.ts';
export { createTestEnvironment, type TestEnvironment, type TestEnvironmentOptions, type TestWorkerOptions } from './test-environment.ts';
export { TestClock, type TestClockOptions } from './test-clock.ts';
export type { Clock } from '../common/clock.ts';
export { replayHistory, assertReplays, type ReplayResult, type Divergence } from '../engine/core/replay.ts';
export { storeConformanceSuite, type StoreConformanceOptions, type StoreFixture } from './store-conformance.ts';
export type { SuiteFunctions, Expect, Assertion } from './suite-functions.ts';
