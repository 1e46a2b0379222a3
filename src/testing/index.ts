/**
 * Tools for testing workflows and stores.
 *
 * @example
 * import { createTestEngine, replayHistory } from 'perdure/testing';
 * const t = await createTestEngine({ workflows: [orderWorkflow] });
 * const { workflowId } = await t.engine.start('order', { input });
 * expect(replayHistory(orderWorkflow, await t.engine.history({ workflowId })).ok).toBe(true);
 */
export { createTestEngine, type TestEngine } from './test-engine.ts';
export { replayHistory, assertReplays, type ReplayResult, type Divergence } from '../engine/replay.ts';
export { storeConformanceSuite } from './store-conformance.ts';
