import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { workflowApi } from '../helpers/workflow-http.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

// The disk really full (issue 11): the data directory on a 16 MiB tmpfs, a filler file taking all
// but ~2 MiB of it, then starts (100 KB inputs) and signals until a write fails with ENOSPC. The
// store fail-stops (DESIGN: a failed synced write makes every later write fail until reopen):
// new work is refused with 503 STORE_FAILED, /healthz answers 503. Then the filler is deleted,
// the server restarted, and every start, signal and completion acknowledged before is there.
// disk-full.test.ts does the same with `ulimit -f`, which needs no mount.

const SIZE = 16 * 1024 * 1024;
const LEFT_FREE = 2 * 1024 * 1024;

const mountPoint = mkdtempSync(join(tmpdir(), 'perdure-tmpfs-'));
let mountError: string | undefined;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
} catch (error) {
  mountError = String((error as { stderr?: Buffer }).stderr ?? error).trim();
  console.warn(`disk-full-tmpfs: skipped, a tmpfs cannot be mounted here (needs root or CAP_SYS_ADMIN): ${mountError}`);
}

const processes: (ServerProcess | WorkerProcess)[] = [];
afterAll(async () => {
  for (const p of processes.reverse()) await p.kill();
  if (!mountError) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' }); // busy: detach it now, freed when the last file closes
    }
  }
  await rmdir(mountPoint).catch(() => {});
});

describe('the data directory on a tmpfs that fills up', () => {
  it.skipIf(mountError !== undefined)('refuses new work with 503 STORE_FAILED, and after space is freed and a restart every acknowledged start, signal and completion is there', async () => {
    const dataDir = join(mountPoint, 'data');
    const server = await startServerProcess({}, { dataDir, port: 0 });
    processes.push(server);
    const api = workflowApi(server.url);

    // Completions: order sagas run by a worker to the end while there is room.
    const worker = await startWorkerProcess({ address: server.wsUrl, taskQueue: 'orders', identity: 'w1' });
    processes.push(worker);
    const orders = ['o-0', 'o-1', 'o-2', 'o-3', 'o-4'];
    for (const id of orders) expect((await api.start('order', id, { orderId: id, amount: 5, items: ['a'] })).status).toBe(201);
    for (const id of orders) expect(await api.result(id), id).toMatchObject({ status: 'completed', output: { outcome: 'shipped' } });
    await worker.stop();

    // Fill the disk but ~2 MiB.
    const filler = join(mountPoint, 'filler');
    const { bavail, bsize } = await statfs(mountPoint);
    await writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - LEFT_FREE)));

    const started: string[] = [];
    const signalled: string[] = [];
    let refused: { status: number; body: { code?: string; message?: string } } | undefined;
    for (let i = 0; i < 400 && !refused; i++) {
      const id = `fill-${i}`;
      const answer = await api.start('approval', id, { request: 'x'.repeat(100_000), timeoutMs: 3_600_000 });
      if (answer.status !== 201) {
        refused = answer;
        break;
      }
      started.push(id);
      if (i % 3 === 0) {
        const status = await api.signal(id, { type: 'APPROVE', approver: 'ops' });
        if (status === 202) signalled.push(id);
        else expect(status, `signal to ${id}`).toBe(503);
      }
    }
    expect(refused, 'a start was refused before 400 × 100 KB filled 2 MiB').toBeDefined();
    expect(refused).toMatchObject({ status: 503, body: { code: 'STORE_FAILED' } });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ code: 'STORE_FAILED' });
    expect(await api.signal(started[started.length - 1]!, { type: 'APPROVE', approver: 'late' }), 'a signal after the failure').toBe(503);

    // Space freed, the server restarted (SIGTERM, as an orchestrator would; a failed store may
    // not close cleanly, so the exit code is not asserted).
    await server.stop();
    await rm(filler);
    const restarted = await server.restart();
    processes.push(restarted);
    const again = workflowApi(restarted.url);
    expect((await fetch(`${restarted.url}/healthz`)).status).toBe(200);
    for (const id of orders) expect(await again.result(id, 1), id).toMatchObject({ status: 'completed', output: { outcome: 'shipped' } });
    for (const id of started) {
      const events = await again.history(id);
      expect(events[0]?.kind, `${id} started`).toBe('WorkflowStarted');
      if (signalled.includes(id)) {
        expect(events.filter((e) => e.kind === 'SignalReceived'), `${id}: its acknowledged signal`).toHaveLength(1);
        expect(await again.result(id, 1), id).toMatchObject({ status: 'completed', output: { decision: 'approved' } });
      }
    }
    expect((await again.start('approval', 'after-restart', { request: 'y', timeoutMs: 3_600_000 })).status).toBe(201);
    console.log(`tmpfs ${SIZE / 2 ** 20} MiB, ${LEFT_FREE / 2 ** 20} MiB left free: ${started.length} starts and ${signalled.length} signals acknowledged, ` +
      `then ${refused!.status} ${refused!.body.code}; after freeing space and a restart all there, with the ${orders.length} completed orders`);
  }, 120_000);
});
