import { expect } from 'vitest';
import { orderWorkflow } from '../../machines/order.ts';
import { timerWorkflow } from '../../machines/timer.ts';
import type { Client } from '../../src/client/index.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { replayHistory } from '../../src/testing/index.ts';

/**
 * The workload of the cluster fault tests (order sagas, every tenth compensated, and durable
 * timers), how a test starts it through failures, and what it checks in PostgreSQL afterwards
 * — the invariants of DESIGN.md: every acknowledged start exists and completed with the right
 * outcome, every history is seq 1..n and replays to its stored snapshot.
 *
 * @example
 * const starts = clusterWorkload({ orders: 300, timers: 50 });
 * await startThroughFailures(clients, starts, { acknowledged, unexpected, pauseMs: () => 200 });
 * await verifyStoredExecutions({ url, schema, starts });
 */
export interface WorkloadStart { workflowId: string; type: 'order' | 'timer'; input: unknown }

/** Errors a start may meet while its node dies, its database is away or its shard moves: the same start is tried again. */
export const RETRYABLE = new Set(['CONNECTION_LOST', 'SERVER_UNREACHABLE', 'STORE_FAILED', 'STORE_CLOSED', 'ENGINE_STOPPED', 'SHARD_OWNERSHIP_LOST',
  'SHARD_NOT_HELD', 'COMMIT_CONFLICT', 'TIMEOUT', 'TOO_MANY_REQUESTS']);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function clusterWorkload(counts: { orders: number; timers: number }): WorkloadStart[] {
  const starts: WorkloadStart[] = [];
  for (let i = 0; i < counts.orders; i++) {
    const workflowId = `order-${i}`;
    starts.push({ workflowId, type: 'order', input: { orderId: workflowId, amount: i, items: ['x'], failAt: i % 10 === 3 ? 'ship' : undefined } });
  }
  // Durable timers of 0.5–5 s: many come due while their shard is moving, or the database is away.
  for (let i = 0; i < counts.timers; i++) starts.push({ workflowId: `timer-${i}`, type: 'timer', input: { ms: 500 + ((i * 397) % 4_500) } });
  // A fixed shuffle, so timers and compensated orders are spread over the run.
  const rank = (s: WorkloadStart) => (s.workflowId.length * 7 + Number(s.workflowId.split('-')[1]) * 13) % 350;
  return starts.sort((a, b) => rank(a) - rank(b));
}

export interface StartProgress {
  acknowledged: Set<string>;
  /** Starts that failed with a code not in RETRYABLE (or retried over 50 times): `id: code: message`. */
  unexpected: string[];
  retries: number;
}

/**
 * Starts every workflow through three lanes, lane k on client k (and the next client on each
 * retry), each start with its workflow id as idempotency key, retried on a RETRYABLE error.
 * `pauseMs` paces the lanes: the time between one lane's starts.
 */
export async function startThroughFailures(clients: Client[], starts: WorkloadStart[], progress: StartProgress, pauseMs: () => number): Promise<void> {
  const lanes = clients.length;
  await Promise.all(clients.map(async (_, lane) => {
    for (let k = lane; k < starts.length; k += lanes) {
      const start = starts[k]!;
      for (let attempt = 0; ; attempt++) {
        const client = clients[(lane + attempt) % lanes]!;
        try {
          await client.start(start.type, { workflowId: start.workflowId, input: start.input as never, idempotencyKey: start.workflowId });
          progress.acknowledged.add(start.workflowId);
          break;
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'none';
          if (!RETRYABLE.has(code) || attempt > 50) {
            progress.unexpected.push(`${start.workflowId}: ${code}: ${(error as Error).message}`);
            break;
          }
          progress.retries++;
          await sleep(100);
        }
      }
      const pause = pauseMs();
      if (pause > 0) await sleep(pause);
    }
  }));
}

/** Reads what the cluster left in PostgreSQL and checks every start of the workload against it. */
export async function verifyStoredExecutions(options: { url: string; schema: string; starts: WorkloadStart[] }): Promise<void> {
  const store = new PostgresStore({ url: options.url, schema: options.schema, poolSize: 4, nodeId: 'verifier', leaseMs: 1_500 });
  await store.open();
  try {
    for (const start of options.starts) {
      const runId = await store.getCurrentRunId('default', start.workflowId);
      expect(runId, `${start.workflowId} (acknowledged) exists`).toBeDefined();
      const run = (await store.getRun(runId!))!;
      expect(run.status, `${start.workflowId} completed`).toBe('completed');
      if (start.type === 'order') {
        const i = Number(start.workflowId.split('-')[1]);
        expect((run.output as { outcome: string }).outcome, start.workflowId).toBe(i % 10 === 3 ? 'compensated' : 'shipped');
      }
      const history = await store.readHistory(runId!);
      expect(history.map((e) => e.seq), `${start.workflowId}: history seq is 1..n`).toEqual(history.map((_, k) => k + 1));
      expect(run.lastSeq).toBe(history.length);
      const machine = start.type === 'order' ? orderWorkflow : timerWorkflow;
      expect(replayHistory(machine, history, { storedSnapshot: run.snapshot }).divergence, `${start.workflowId} replays to its stored snapshot`).toBeUndefined();
    }
  } finally {
    await store.close();
  }
}

/** Polls `check` until it returns a value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Every start's result, through the clients in turn (a call to a node that does not own it is forwarded). */
export async function awaitAllResults(clients: Client[], starts: WorkloadStart[], timeoutMs: number, diagnostics: () => string): Promise<void> {
  await Promise.all(starts.map((start, k) => clients[k % clients.length]!.getHandle(start.workflowId).result({ timeoutMs }).catch((error: Error) => {
    throw new Error(`${start.workflowId} did not complete: ${error.message}\n${diagnostics()}`);
  })));
}
