import { closeSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encode } from '../../src/common/codec.ts';
import { keys } from '../../src/store/keys.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import { fixtureRun, startRun } from '../../src/testing/store-fixtures.ts';
import { startServerProcess } from '../helpers/server-process.ts';

// A damaged data directory (issue 15, bugs 4 and 5): LevelDB's own corruption errors become
// STORE_CORRUPTED naming the directory and the fix, and a run record whose bytes changed is
// RUN_CORRUPTED — never INTERNAL, never served as data. Real LevelDB in a temp directory; the
// damage is done to its files as a failing disk would.

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'perdure-corrupt-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/**
 * A store holding one run with two history events and one task, in a table file of its own; the
 * `ns/default` and `meta/` records the store reads as it opens are also in a newer table, which
 * LevelDB consults first. Damaging the older table then breaks the run's reads, not the open.
 * (The damage is done while the store is closed: LevelDB maps table files into memory, so bytes
 * changed under an open store read as "not found" rather than as corruption.)
 */
async function populatedThenDamaged(): Promise<string> {
  const store = new LevelStore({ directory, durability: 'os' });
  await store.open();
  const run = await startRun(store, fixtureRun('run-1'), 2, {
    tasks: { put: [{ runId: 'run-1', activityId: 'a1', namespace: 'default', taskQueue: 'q', attempt: 1 }] },
  });
  await store.close();
  const db = new ClassicLevel<string, Buffer>(directory, { valueEncoding: 'buffer' });
  await db.open();
  await db.compactRange('\u0000', '\uffff'); // everything into one table file
  const older = tables();
  for (const key of ['ns/default', 'meta/close-index-v1']) await db.put(key, (await db.get(key))!);
  await db.close();
  await db.open(); // the log becomes a level-0 table: the newer copy of what open reads
  await db.close();
  for (const name of older) damage(name);
  return run.runId;
}

function tables(): string[] {
  return readdirSync(directory).filter((f) => f.endsWith('.ldb'));
}

/** Overwrites a table file but its footer with junk: every block read fails its format check. */
function damage(name: string): void {
  const path = join(directory, name);
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(size - 48, 0xab), 0, size - 48, 0);
  closeSync(fd);
}

async function refusal(promise: Promise<unknown>, what = 'the read'): Promise<{ code?: string; message: string }> {
  const error = (await promise.then(() => undefined, (e: unknown) => e)) as { code?: string; message: string } | undefined;
  expect(error, `${what} should have been refused`).toBeDefined();
  return error!;
}

describe('LevelDB corruption', () => {
  it('is STORE_CORRUPTED, naming the directory and the fix, from a point read, the history iterator and the task index', async () => {
    const runId = await populatedThenDamaged();
    const store = new LevelStore({ directory, durability: 'os' });
    await store.open();
    try {
      const reads: Record<string, () => Promise<unknown>> = {
        getRun: () => store.getRun(runId), getCurrentRunId: () => store.getCurrentRunId('default', 'wf-run-1'),
        readHistory: () => store.readHistory(runId), listTasks: () => store.listTasks(),
      };
      for (const [name, read] of Object.entries(reads)) {
        const error = await refusal(read(), name);
        expect(error.code).toBe('STORE_CORRUPTED');
        expect(error.message).toContain(directory);
        expect(error.message).toMatch(/damaged.*restore the directory from a backup/);
      }
    } finally {
      await store.close();
    }
  });

  it('is STORE_CORRUPTED at start-up when the CURRENT file is damaged', async () => {
    await populatedThenDamaged();
    await writeFile(join(directory, 'CURRENT'), 'MANIFEST-0000'); // no newline: LevelDB calls it corruption
    const error = await refusal(new LevelStore({ directory }).open());
    expect(error.code).toBe('STORE_CORRUPTED');
    expect(error.message).toMatch(/start-up/);
  });
});

describe('the run record checksum', () => {
  /** Rewrites the stored run record with `change` applied to its bytes. */
  async function rewriteRunRecord(runId: string, change: (bytes: Buffer) => Buffer): Promise<void> {
    const db = new ClassicLevel<string, Buffer>(directory, { valueEncoding: 'buffer' });
    await db.open();
    const stored = (await db.get(keys.run(runId)))!;
    await db.put(keys.run(runId), change(Buffer.from(stored)));
    await db.close();
  }

  it('reports a run record with one flipped byte as RUN_CORRUPTED instead of serving it', async () => {
    const runId = 'run-1';
    const store0 = new LevelStore({ directory, durability: 'os' });
    await store0.open();
    await startRun(store0, fixtureRun(runId), 2, {
      tasks: { put: [{ runId, activityId: 'a1', namespace: 'default', taskQueue: 'q', attempt: 1 }] },
    });
    await store0.close();
    await rewriteRunRecord(runId, (bytes) => {
      const i = bytes.indexOf('wf'); // a byte inside the record's data (the workflow id), not the header
      bytes[i] = bytes[i]! ^ 0x01;
      return bytes;
    });
    const store = new LevelStore({ directory, durability: 'os' });
    await store.open();
    try {
      const error = await refusal(store.getRun(runId));
      expect(error.code).toBe('RUN_CORRUPTED');
      expect(error.message).toContain(runId);
      // Only that run: the rest of the store reads.
      expect(await store.listTasks()).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('still reads a run record written before records had a checksum', async () => {
    const run = fixtureRun('run-old', { lastSeq: 0 });
    const db = new ClassicLevel<string, Buffer>(directory, { valueEncoding: 'buffer' });
    await db.open();
    await db.put(keys.run(run.runId), encode(run)); // plain msgpack, as older Perdure wrote it
    await db.close();
    const store = new LevelStore({ directory, durability: 'os' });
    await store.open();
    try {
      expect(await store.getRun(run.runId)).toEqual(run);
    } finally {
      await store.close();
    }
  });
});

describe('a server on a store with one damaged run', () => {
  it('starts, answers that run with 500 RUN_CORRUPTED, and serves the others', async () => {
    const server = await startServerProcess();
    try {
      const api = `${server.url}/api/v1/namespaces/default/workflows`;
      const start = (workflowId: string) => fetch(api, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'threeStep', workflowId, input: { n: 1 } }),
      });
      // No worker: each run waits with an activity task pending, which recovery loads at start.
      const damaged = (await (await start('damaged')).json()) as { runId: string };
      expect((await start('intact')).status).toBe(201);
      await server.stop();
      const db = new ClassicLevel<string, Buffer>(server.dataDir, { valueEncoding: 'buffer' });
      await db.open();
      const stored = Buffer.from((await db.get(keys.run(damaged.runId)))!);
      const i = stored.indexOf('damaged');
      stored[i] = stored[i]! ^ 0x01;
      await db.put(keys.run(damaged.runId), stored);
      await db.close();

      const restarted = await server.restart();
      try {
        const answer = await fetch(`${restarted.url}/api/v1/namespaces/default/workflows/damaged`);
        expect(answer.status).toBe(500);
        expect(await answer.json()).toMatchObject({ code: 'RUN_CORRUPTED', message: expect.stringContaining(damaged.runId) });
        expect((await fetch(`${restarted.url}/api/v1/namespaces/default/workflows/intact`)).status).toBe(200);
      } finally {
        await restarted.cleanup();
      }
    } finally {
      await server.cleanup();
    }
  });
});
