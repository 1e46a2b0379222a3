import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelStore } from '../../src/store/level-store.ts';
import type { Store } from '../../src/store/store.ts';

/** Runs `body` on a fresh LevelStore in a temp directory, then closes and deletes it. */
export async function withTempLevelStore(body: (store: Store) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'perdure-store-'));
  const store = new LevelStore({ directory, durability: 'os' });
  await store.open();
  try {
    await body(store);
  } finally {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  }
}
