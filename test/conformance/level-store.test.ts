import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelStore } from '../../src/store/level-store.ts';
import type { Store } from '../../src/store/store.ts';
import { storeConformanceSuite } from '../../src/testing/store-conformance.ts';

storeConformanceSuite({
  name: 'LevelStore (fsync)',
  test: { describe, it, expect },
  factory: async () => {
    const directory = await mkdtemp(join(tmpdir(), 'perdure-store-'));
    let store: Store = new LevelStore({ directory, durability: 'fsync' });
    await store.open();
    return {
      store,
      async reopen() {
        await store.close();
        store = new LevelStore({ directory, durability: 'fsync' });
        await store.open();
        return store;
      },
      async cleanup() {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
});

// Every run past the most recent one takes the cold path of a commit (checked against what is
// stored): the suite must pass as it does with the hot path. The smallest memtable makes LevelDB
// write sorted files and compact them during the suite, too.
storeConformanceSuite({
  name: 'LevelStore (remembering one recent run, a 64 KiB memtable)',
  test: { describe, it, expect },
  factory: async () => {
    const directory = await mkdtemp(join(tmpdir(), 'perdure-store-'));
    let store: Store = new LevelStore({ directory, durability: 'os', recentRuns: 1, writeBufferBytes: 64 * 1024 });
    await store.open();
    return {
      store,
      async reopen() {
        await store.close();
        store = new LevelStore({ directory, durability: 'os', recentRuns: 1, writeBufferBytes: 64 * 1024 });
        await store.open();
        return store;
      },
      async cleanup() {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
});

describe('LevelStore options', () => {
  it('refuses a memtable size that is not an integer of at least 64 KiB, saying what it takes', () => {
    for (const writeBufferBytes of [1024, 100_000.5, Number.NaN]) {
      expect(() => new LevelStore({ directory: '/tmp/unused', writeBufferBytes })).toThrow(/writeBufferBytes must be an integer of at least 65536/);
    }
  });
});
