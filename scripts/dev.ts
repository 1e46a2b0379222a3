/**
 * The demo: the engine on the embedded store in ./.perdure, an in-process worker for the example
 * activities, and a few example executions whose progress is printed as it happens.
 * Stop it at any moment (Ctrl-C, or kill -9) and run it again: open executions carry on.
 */
import { approvalWorkflow } from '../machines/approval.ts';
import { flakyActivities, flakyWorkflow } from '../machines/flaky.ts';
import { orderWorkflow } from '../machines/order.ts';
import { orderActivityImplementations } from '../machines/order-activities.ts';
import { threeStepWorkflow } from '../machines/three-step.ts';
import { Engine } from '../src/server/index.ts';
import type { HistoryEvent } from '../src/index.ts';
import { Worker } from '../src/worker/index.ts';

const dataDir = process.env.PERDURE_DATA ?? './.perdure';
const engine = await Engine.start({ workflows: [orderWorkflow, approvalWorkflow, flakyWorkflow, threeStepWorkflow], dataDir });
console.log(`Perdure engine on ${dataDir} (LevelDB, fsync); workflow types: ${engine.registry.types().map((t) => `${t.type}@${t.versions.at(-1)}`).join(', ')}`);

const workers = [
  Worker.create({ connection: engine, taskQueue: 'orders', activities: orderActivityImplementations({ delayMs: () => 300 + Math.random() * 400 }) }),
  Worker.create({ connection: engine, taskQueue: 'flaky', activities: flakyActivities }),
];
for (const w of workers) void w.run();

const stamp = Date.now().toString(36);
const started = [
  await engine.start('order', { workflowId: `order-${stamp}`, input: { orderId: `order-${stamp}`, amount: 42, items: ['book', 'lamp'] } }),
  await engine.start('order', { workflowId: `order-fails-${stamp}`, input: { orderId: `order-fails-${stamp}`, amount: 7, items: ['vase'], failAt: 'ship' } }),
  await engine.start('approval', { workflowId: `approval-${stamp}`, input: { request: 'new laptop', timeoutMs: 4_000 } }),
  await engine.start('flaky', { workflowId: `flaky-${stamp}`, input: { key: 'weather', failTimes: 3 } }),
];
console.log(`started ${started.map((s) => s.workflowId).join(', ')}\n`);
setTimeout(() => void engine.signal({ workflowId: `approval-${stamp}` }, { type: 'APPROVE', approver: 'ana' }).catch(() => {}), 1500);

const describeEvent = (e: HistoryEvent): string => {
  switch (e.kind) {
    case 'ActivityScheduled': return `schedule ${e.activityType}`;
    case 'ActivityCompleted': return `${e.activityId} done`;
    case 'ActivityAttemptFailed': return `${e.activityId} attempt ${e.attempt} failed: ${e.failure.message} (retry)`;
    case 'ActivityFailed': return `${e.activityId} failed for good`;
    case 'SignalReceived': return `signal ${e.event.type}`;
    case 'TimerStarted': return `timer ${e.timerId} in ${e.delayMs} ms`;
    case 'TimerFired': return `timer ${e.timerId} fired`;
    default: return e.kind;
  }
};

const seen = new Map<string, number>();
const open = new Set(started.map((s) => s.workflowId));
while (open.size > 0) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const workflowId of open) {
    const history = await engine.history({ workflowId });
    const from = seen.get(workflowId) ?? 0;
    if (history.length > from) {
      const { value, status } = await engine.query({ workflowId });
      const news = history.slice(from).map(describeEvent).join(', ');
      console.log(`${workflowId.padEnd(28)} ${String(JSON.stringify(value)).padEnd(14)} ${status.padEnd(9)} ← ${news}`);
      seen.set(workflowId, history.length);
    }
    const d = await engine.describe({ workflowId });
    if (d.status !== 'running') {
      open.delete(workflowId);
      console.log(`${workflowId.padEnd(28)} ${d.status}: ${JSON.stringify(d.output ?? d.failure)}`);
    }
  }
}
console.log(`\nAll done. The histories are in ${dataDir}; run again to start more.`);
for (const w of workers) await w.shutdown();
await engine.stop();
