/** Example workflows. `perdure server --workflows machines/index.ts` registers every export made with workflow(). */
export { orderWorkflow } from './order.ts';
export { approvalWorkflow } from './approval.ts';
export { flakyWorkflow } from './flaky.ts';
export { threeStepWorkflow } from './three-step.ts';
export { fulfillmentWorkflow, shipmentWorkflow } from './fulfillment.ts';
export { counterWorkflow } from './counter.ts';
export { cartWorkflow } from './cart.ts';
export { customerOrderWorkflow } from './customer-order.ts';
