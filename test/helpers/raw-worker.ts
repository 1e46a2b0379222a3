import WebSocket from 'ws';
import { decode, encode } from '../../src/common/codec.ts';
import type { FailureInfo } from '../../src/common/failures.ts';
import { PROTOCOL_VERSION } from '../../src/common/wire.ts';
import type { ActivityTask } from '../../src/common/worker-protocol.ts';

export interface RawWorkerOptions {
  wsUrl: string;
  namespace?: string;
  token?: string;
  taskQueue: string;
  activityTypes: string[];
  /** Answers one task: its output, or a failure to report. */
  run(task: ActivityTask): Promise<{ output: unknown } | { failure: FailureInfo }>;
}

/**
 * A worker built from the wire protocol alone (hello → register → task → complete/fail), for
 * tests that need activities run against a server in another process without the worker SDK.
 *
 * @example
 * const worker = await startRawWorker({ wsUrl: server.wsUrl, taskQueue: 'bench', activityTypes: ['step1'],
 *   run: async (task) => ({ output: task.input }) });
 * try { … } finally { await worker.close(); }
 */
export async function startRawWorker(options: RawWorkerOptions): Promise<{ close(): Promise<void> }> {
  const ws = new WebSocket(options.wsUrl, { headers: options.token ? { authorization: `Bearer ${options.token}` } : {} });
  ws.on('error', () => {});
  let nextId = 1;
  const send = (frame: Record<string, unknown>) => ws.send(encode(frame), { binary: true });
  const registered = new Promise<void>((resolve, reject) => {
    ws.on('open', () => send({ t: 'hello', v: PROTOCOL_VERSION, role: 'worker', namespace: options.namespace ?? 'default' }));
    ws.on('close', () => reject(new Error('raw worker: the connection closed before registration')));
    ws.on('message', (data: Buffer) => {
      const frame = decode(data) as Record<string, unknown>;
      if (frame.t === 'welcome') {
        send({ t: 'register', id: nextId++, taskQueue: options.taskQueue, activityTypes: options.activityTypes, slots: 10 });
      } else if (frame.t === 'ok' && frame.id === 1) {
        resolve();
      } else if (frame.t === 'error' && (frame.id === 1 || frame.id === undefined)) {
        reject(new Error(`raw worker: ${String(frame.message)}`));
      } else if (frame.t === 'task') {
        const task = frame.task as ActivityTask;
        void options.run(task).then((answer) => {
          if ('failure' in answer) send({ t: 'fail', id: nextId++, taskToken: task.taskToken, failure: answer.failure });
          else send({ t: 'complete', id: nextId++, taskToken: task.taskToken, output: answer.output ?? null });
        });
      }
    });
  });
  await registered;
  return {
    close: () => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once('close', () => resolve());
      ws.close();
    }),
  };
}
