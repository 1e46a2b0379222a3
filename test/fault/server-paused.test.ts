import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { checkHistory, workflowApi } from '../helpers/workflow-http.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

// The server SIGSTOPped (a VM paused, a GC stall, a debugger) for longer than the activities'
// heartbeat (1 s) and start-to-close (3 s) timeouts, then SIGCONT. On resuming, the server finds
// both its timeout timers due and the workers' heartbeats and completions queued in its sockets,
// in no defined order: whichever it takes first, each attempt is settled once, a timed-out
// attempt's late completion is refused, and every execution completes (issue 11).

const EXECUTIONS = 6;
const PAUSE_MS = 6_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('a server paused past its activities\' timeouts', () => {
  it('completes every execution after SIGCONT, accepting no completion twice, each history seq 1..n', async () => {
    const { reruns, stale } = await pauseAndResume({ pauseWorkers: false });
    console.log(`server paused ${PAUSE_MS} ms with ${EXECUTIONS} attempts in flight: all completed, ${reruns} attempts timed out and were retried, ${stale} late reports refused`);
  }, 120_000);

  it('times the attempts out when the workers were paused with it, and refuses their late reports after SIGCONT', async () => {
    // Workers paused too, the server resumed first: only its timers run, so every attempt in
    // flight times out and is retried; the workers, resumed, report the first attempts late.
    const { reruns, stale } = await pauseAndResume({ pauseWorkers: true });
    expect(reruns, 'attempts timed out').toBeGreaterThan(0);
    expect(stale, 'late reports refused').toBeGreaterThan(0);
    console.log(`server and workers paused ${PAUSE_MS} ms, server resumed first: all completed, ${reruns} attempts timed out and were retried, ${stale} late reports refused`);
  }, 120_000);
});

async function pauseAndResume({ pauseWorkers }: { pauseWorkers: boolean }): Promise<{ reruns: number; stale: number }> {
  const server: ServerProcess = await startServerProcess();
  cleanups.push(() => server.cleanup());
  const workers: WorkerProcess[] = [];
  for (const identity of ['w1', 'w2']) {
    const worker = await startWorkerProcess({ address: server.wsUrl, taskQueue: 'long', identity });
    cleanups.push(() => worker.kill());
    workers.push(worker);
  }
  const api = workflowApi(server.url);
  const ids = Array.from({ length: EXECUTIONS }, (_, i) => `paused-${i}`);
  // 8 steps of 250 ms, a heartbeat after each: 2 s per attempt, inside start-to-close (3 s).
  for (const id of ids) expect((await api.start('boundedTask', id, { steps: 8, stepMs: 250 })).status, id).toBe(201);
  await Promise.all(ids.map((id) => Promise.any(workers.map((w) => w.waitFor((l) => l.event === 'start' && l.workflowId === id)))));

  if (pauseWorkers) for (const w of workers) await w.kill('SIGSTOP');
  server.child.kill('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  server.child.kill('SIGCONT');
  if (pauseWorkers) {
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the server's timers run alone
    for (const w of workers) await w.kill('SIGCONT');
  }

  let reruns = 0;
  for (const id of ids) {
    const result = await api.result(id);
    expect(result, `${id} completes`).toMatchObject({ status: 'completed', output: { outcome: 'done' } });
    const events = await api.history(id);
    const completed = checkHistory(id, events);
    expect(Object.fromEntries(completed), `${id}: the activity completed exactly once`).toEqual({ work: 1 });
    // A timed-out attempt that is retried is not a history event (as in Temporal): the attempt
    // number of the completion says how many ran before it.
    reruns += events.filter((e) => e.kind === 'ActivityCompleted').reduce((n, e) => n + e.attempt! - 1, 0);
  }
  const stale = workers.flatMap((w) => w.lines).filter((l) => l.event === 'warn' && l.log === 'reportStale').length;
  return { reruns, stale };
}
