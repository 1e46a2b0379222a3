/**
 * Checks that the native parts Perdure depends on load after `npm ci`, even when npm 11 held
 * back their install scripts: classic-level's LevelDB binding (prebuilt, loaded by
 * node-gyp-build) must load; msgpackr's native extension is optional (pure JS otherwise).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { isNativeAccelerationEnabled } from 'msgpackr';

const dir = await mkdtemp(join(tmpdir(), 'perdure-native-'));
try {
  const db = new ClassicLevel(dir);
  await db.put('k', 'v');
  if ((await db.get('k')) !== 'v') throw new Error('LevelDB read back a different value');
  await db.close();
  console.log('classic-level: LevelDB binding loaded and working');
} catch (error) {
  console.error('classic-level: the LevelDB binding did not load. Run `npm rebuild classic-level` (needs python3, make, g++).');
  throw error;
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(`msgpackr: native extension ${isNativeAccelerationEnabled ? 'loaded' : 'not loaded (pure JavaScript fallback, slower)'}`);
