import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import { prefixRange } from '../../src/store/keys.ts';
import { LevelStore } from '../../src/store/level-store.ts';
import { appendRun, fixtureRun, startRun, T0 } from '../../src/testing/store-fixtures.ts';

// What only the LevelDB store has to say about retention: a data directory written before the
// close-time index existed gets the index built on its first open.

let directory: string | undefined;
afterEach(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
  directory = undefined;
});

describe('LevelStore close-time index', () => {
  it('is built once for a data directory written before it existed', async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdure-retention-'));
    let store = new LevelStore({ directory, durability: 'os' });
    await store.open();
    await appendRun(store, await startRun(store, fixtureRun('r-old')), 1, { status: 'failed', run: { closedAt: T0 + 7 } });
    await startRun(store, fixtureRun('r-open'));
    await store.close();

    // Make it look like an older Perdure wrote it: no index entries, no marker, no namespaces.
    const db = new ClassicLevel<string, Buffer>(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    await db.open();
    const old = [...await db.keys(prefixRange('closed/')).all(), ...await db.keys(prefixRange('meta/')).all(), ...await db.keys(prefixRange('ns/')).all()];
    expect(old.length).toBeGreaterThanOrEqual(3);
    await db.batch(old.map((key) => ({ type: 'del' as const, key })));
    await db.close();

    store = new LevelStore({ directory, durability: 'os' });
    await store.open();
    try {
      expect(await store.listClosedRuns('default', { closedBefore: T0 + 1000, limit: 10 })).toEqual([{ runId: 'r-old', closedAt: T0 + 7, shard: 0 }]);
      expect(await store.getNamespace('default')).toMatchObject({ name: 'default' });
      expect(await store.deleteRun('r-old')).toBe(true);
      expect(await store.getRun('r-old')).toBeUndefined();
      expect(await store.getCurrentRunId('default', 'wf-r-open')).toBe('r-open');
    } finally {
      await store.close();
    }
  });
});
