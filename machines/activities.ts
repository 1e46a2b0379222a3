/**
 * Every example activity in one module, for `perdure worker`:
 *
 *   perdure worker --activities machines/activities.ts --task-queue orders --task-queue flaky --task-queue bench
 *
 * Each export is an activity under its name (the name the machine's activity(name, …) gives it).
 * The order steps take 300–700 ms so that the demo's progress can be watched.
 */
import { flakyActivities } from './flaky.ts';
import { orderActivityImplementations } from './order-activities.ts';
import { threeStepActivities } from './three-step.ts';

const order = orderActivityImplementations({ delayMs: () => 300 + Math.random() * 400 });

export const { chargeCard, reserveInventory, shipOrder, releaseInventory, refundCard } = order;
export const { flakyCall } = flakyActivities;
export const { step1, step2, step3 } = threeStepActivities;
