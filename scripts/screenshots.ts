/**
 * Screenshots of the web UI for the README: docs/screenshots/executions.png (the list),
 * docs/screenshots/execution.png (an order in flight: its diagram with the path taken and the
 * running activity), docs/screenshots/workflow-types.png, docs/screenshots/child-workflows.png
 * (a fulfillment waiting on its shipment child) and docs/screenshots/schedules.png.
 *
 *   npm run screenshots        (needs Chromium: scripts/install-browser.sh)
 *
 * Starts a server in this process on a temporary store, with the example machines and workers
 * connected over WebSocket, runs a few executions to interesting places, and photographs them
 * in headless Chromium.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { approvalWorkflow } from '../machines/approval.ts';
import { flakyActivities, flakyWorkflow } from '../machines/flaky.ts';
import { fulfillmentWorkflow, shipmentWorkflow } from '../machines/fulfillment.ts';
import { orderWorkflow } from '../machines/order.ts';
import { orderActivityImplementations } from '../machines/order-activities.ts';
import { threeStepWorkflow } from '../machines/three-step.ts';
import { createServer } from '../src/server/index.ts';
import { Worker, type ActivityFunction } from '../src/worker/index.ts';
import { launchBrowser } from '../test/e2e/browser.ts';
import { api, waitForUi } from '../test/e2e/ui-helpers.ts';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dataDir = await mkdtemp(join(tmpdir(), 'perdure-screenshots-'));
const server = await createServer({ workflows: [orderWorkflow, approvalWorkflow, flakyWorkflow, threeStepWorkflow, fulfillmentWorkflow, shipmentWorkflow], dataDir, port: 0, logger: false, durability: 'os' });
const base = server.url;
const workers: Worker[] = [];
try {
  // Orders whose id says "slow" wait at the carrier, so one can be photographed in flight.
  const orders = orderActivityImplementations({ delayMs: () => 40 });
  const shipOrder: ActivityFunction = async (input, ctx) => {
    if ((input as { orderId: string }).orderId.includes('slow')) {
      ctx.heartbeat({ stage: 'waiting for the carrier' });
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    }
    return orders.shipOrder!(input, ctx);
  };
  workers.push(
    Worker.create({ address: base, taskQueue: 'orders', identity: 'orders-worker@host-1', maxConcurrentActivities: 20, activities: { ...orders, shipOrder } }),
    Worker.create({ address: base, taskQueue: 'flaky', identity: 'flaky-worker@host-2', maxConcurrentActivities: 5, activities: flakyActivities }),
  );
  for (const w of workers) void w.run();

  const start = (type: string, workflowId: string, input: unknown) => api(base, 'POST', '/api/v1/namespaces/default/workflows', { type, workflowId, input });
  const signal = (workflowId: string, event: unknown) => api(base, 'POST', `/api/v1/namespaces/default/workflows/${workflowId}/signal`, { event });

  await start('order', 'order-1001', { orderId: 'order-1001', amount: 42, items: ['book', 'lamp'] });
  await start('approval', 'expense-311', { request: 'conference trip', timeoutMs: 86_400_000 });
  await start('flaky', 'weather-lookup', { key: 'weather', failTimes: 2 });
  await start('order', 'order-1002', { orderId: 'order-1002', amount: 7, items: ['vase'], failAt: 'ship' });
  await start('approval', 'expense-312', { request: 'new laptop', timeoutMs: 86_400_000 });
  await start('flaky', 'fx-rates', { key: 'fx', failTimes: 0, fatal: true });
  await start('approval', 'expense-313', { request: 'standing desk', timeoutMs: 86_400_000 });
  await start('order', 'order-1003', { orderId: 'order-1003', amount: 18, items: ['pen'], failAt: 'charge' });
  await sleep(300);
  await signal('expense-311', { type: 'APPROVE', approver: 'ana' });
  await signal('expense-313', { type: 'REJECT', approver: 'li', reason: 'over budget' });
  await start('approval', 'expense-314', { request: 'monitor', timeoutMs: 86_400_000 });
  await api(base, 'POST', '/api/v1/namespaces/default/workflows/expense-314/terminate', { reason: 'duplicate request' });
  await start('order', 'order-1004-slow', { orderId: 'order-1004-slow', amount: 99, items: ['sofa', 'rug'] });
  await start('fulfillment', 'fulfillment-1001', { orderId: 'order-1001' });
  await sleep(300);
  await signal('shipment-order-1001', { type: 'PICKED_UP', carrier: 'UPS' });
  const schedule = (body: unknown) => api(base, 'POST', '/api/v1/namespaces/default/schedules', body);
  await schedule({ scheduleId: 'weekly-review', spec: { cron: '0 9 * * MON', timezone: 'Europe/Paris' }, action: { workflowType: 'approval', input: { request: 'weekly review', timeoutMs: 86_400_000 } } });
  await schedule({ scheduleId: 'nightly-batch', spec: { cron: '0 2 * * *' }, action: { workflowType: 'threeStep' }, policies: { overlap: 'bufferOne' } });
  await schedule({ scheduleId: 'fx-refresh', spec: { interval: { every: '15m' } }, action: { workflowType: 'flaky', input: { key: 'fx', failTimes: 0 } }, paused: true, note: 'rates API down for maintenance' });
  await api(base, 'POST', '/api/v1/namespaces/default/schedules/weekly-review/trigger', {});
  await sleep(1500);

  await waitForUi(base);
  await mkdir(OUT, { recursive: true });
  const launched = await launchBrowser();
  try {
    const page = await launched.browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(20_000);

    await page.goto(`${base}/namespaces/default/workflows`);
    await page.locator('[data-testid=execution-row][data-workflow-id="order-1004-slow"]').waitFor();
    await sleep(300);
    await page.screenshot({ path: join(OUT, 'executions.png') });

    await page.goto(`${base}/namespaces/default/workflows/order-1004-slow`);
    await page.locator('[data-testid=state-node][data-state-key=shipping][data-leaf-active=true]').waitFor();
    await page.locator('[data-testid=history-row]').first().waitFor();
    await sleep(500);
    await page.setViewportSize({ width: 1440, height: 1040 });
    await page.screenshot({ path: join(OUT, 'execution.png') });

    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${base}/workflow-types/order`);
    await page.locator('[data-testid=type-statechart] [data-state-key=charging]').waitFor();
    await sleep(300);
    await page.screenshot({ path: join(OUT, 'workflow-types.png') });
    await page.goto(`${base}/namespaces/default/workflows/fulfillment-1001`);
    await page.locator('[data-testid=child-row][data-status=running]').waitFor();
    await sleep(500);
    await page.screenshot({ path: join(OUT, 'child-workflows.png') });

    await page.goto(`${base}/namespaces/default/schedules`);
    await page.locator('[data-testid=schedule-row][data-schedule-id=fx-refresh]').waitFor();
    await sleep(300);
    await page.screenshot({ path: join(OUT, 'schedules.png') });
    console.log(`screenshots written to ${OUT}: executions.png, execution.png, workflow-types.png, child-workflows.png, schedules.png`);
  } finally {
    await launched.close();
  }
} finally {
  await Promise.all(workers.map((w) => w.shutdown().catch(() => {})));
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}
