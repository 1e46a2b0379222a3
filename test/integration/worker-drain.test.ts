import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityInfo } from '../../src/worker/index.ts';
import { Worker } from '../../src/worker/index.ts';
import { longTaskActivities, type LongTaskOutput } from '../fixtures/worker-machines.ts';
import { eventually } from '../helpers/engine.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { WireClient } from '../helpers/wire-client.ts';

// Issue 13: a worker that shuts down gracefully while an activity runs longer than the server's
// worker-lost grace (10 s by default) is draining, not lost: its task must not be cancelled and
// run again elsewhere. A real server process, real workers over loopback WebSocket.

let server: ServerProcess;
let client: WireClient;

beforeAll(async () => {
  server = await startServerProcess(); // the default worker-lost grace: 10 s, shorter than the activity
  client = await WireClient.connect(server.wsUrl);
});

afterAll(async () => {
  client?.close();
  await server?.cleanup();
});

describe('a worker that drains', () => {
  it('an activity of 15 s running while its worker drains finishes once, on that worker', async () => {
    const starts: Array<{ worker: string; info: ActivityInfo }> = [];
    const ends: Array<{ worker: string; outcome: string }> = [];
    const hooks = (worker: string) => ({
      onStart: (info: ActivityInfo) => void starts.push({ worker, info }),
      onEnd: (_info: ActivityInfo, outcome: string) => void ends.push({ worker, outcome }),
    });
    const draining = Worker.create({ address: server.wsUrl, taskQueue: 'long', identity: 'draining', activities: longTaskActivities('draining', hooks('draining')), maxConcurrentActivities: 1 });
    const drained = draining.run();
    let spare: Worker | undefined;
    let spareRunning: Promise<void> | undefined;
    try {
      const workflowId = `drain-${Math.random().toString(36).slice(2, 10)}`;
      await client.start('longTask', { workflowId, input: { steps: 30, stepMs: 500 } });
      const first = await eventually(() => starts[0]);
      expect(first.worker).toBe('draining');
      // A spare on the same queue, free: a task the server took back from the draining worker would run here.
      spare = Worker.create({ address: server.wsUrl, taskQueue: 'long', identity: 'spare', activities: longTaskActivities('spare', hooks('spare')), maxConcurrentActivities: 1 });
      spareRunning = spare.run();
      // A moment after the activity started, its worker begins its graceful shutdown.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const shutdown = draining.shutdown();

      const result = await client.result<LongTaskOutput>(workflowId, 40_000);
      await shutdown;
      await drained;
      expect(result.status).toBe('completed');
      expect(result.output).toMatchObject({ outcome: 'done', result: { steps: 30, attempt: 1, worker: first.worker } });
      expect(starts.map((s) => [s.worker, s.info.attempt])).toEqual([[first.worker, 1]]);
      expect(ends).toEqual([{ worker: first.worker, outcome: 'completed' }]);
      const history = await client.history(workflowId);
      expect(history.filter((e) => e.kind === 'ActivityCompleted')).toHaveLength(1);
      expect(history.filter((e) => e.kind === 'ActivityAttemptFailed' || e.kind === 'ActivityFailed')).toEqual([]);
    } finally {
      await draining.shutdown();
      await spare?.shutdown();
      await spareRunning;
    }
  }, 60_000);
});
