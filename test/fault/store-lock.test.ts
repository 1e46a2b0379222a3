import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../src/common/errors.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import { keys } from '../../src/store/keys.ts';
import { appendRun, fixtureRun, startRun } from '../../src/testing/store-fixtures.ts';

const HOLDER = fileURLToPath(new URL('./fixtures/hold-store-child.ts', import.meta.url));

async function withDirectory(test: (directory: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'perdure-fault-'));
  try {
    await test(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

describe('LevelStore data directory ownership', () => {
  it('refuses to open a directory another process holds, naming the directory and its pid', () => withDirectory(async (directory) => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, directory], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk) => (out += chunk) && out.includes('ready') && resolve());
        child.stderr.on('data', (chunk) => (err += chunk));
        child.on('exit', (code) => reject(new Error(`holder exited (${code}) before it was ready:\n${out}${err}`)));
      });
      const store = new LevelStore({ directory });
      const error = await store.open().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StoreLockedError);
      expect(error).toMatchObject({ code: 'STORE_LOCKED', directory });
      const message = (error as Error).message;
      expect(message).toContain(directory);
      expect(message).toContain(`pid ${child.pid}`);
      await expect(store.getRun('r-1')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    } finally {
      child.stdin.end(); // the holder closes its store and exits
      await exited;
    }
    // once the holder is gone the directory opens normally
    const store = new LevelStore({ directory });
    await store.open();
    await store.close();
  }));

  it('reports a corrupted history event as HISTORY_CORRUPTED for that run only', () => withDirectory(async (directory) => {
    const store = new LevelStore({ directory });
    await store.open();
    const damaged = await startRun(store, fixtureRun('r-bad'), 3);
    const healthy = await startRun(store, fixtureRun('r-good'), 3);
    await appendRun(store, healthy, 1);
    await store.close();

    const db = new ClassicLevel<string, Buffer>(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    await db.put(keys.hist(damaged.runId, 2), Buffer.from('garbage, not an event'));
    await db.close();

    const reopened = new LevelStore({ directory });
    await reopened.open();
    try {
      const error = await reopened.readHistory('r-bad').then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'HISTORY_CORRUPTED', runId: 'r-bad', seq: 2 });
      expect((error as Error).message).toContain('r-bad');
      expect((await reopened.readHistory('r-bad', { fromSeq: 3 })).map((e) => e.seq)).toEqual([3]);
      expect((await reopened.readHistory('r-good')).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    } finally {
      await reopened.close();
    }
  }));
});
