import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The engine runs on whatever Store it is given (LevelDB, PostgreSQL, a third-party one that
// passes the conformance suite): nothing under src/engine may import a backend, or the
// cluster's PostgreSQL nodes would load LevelDB and the engine would pick its own store again.
const ENGINE = new URL('../../../src/engine/', import.meta.url);
const BACKENDS = [/store\/level-/, /store\/postgres\//, /['"]classic-level['"]/, /['"]pg['"]/, /store\/group-commit/];

async function sources(dir: URL): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

describe('the engine', () => {
  it('imports no store backend: the store is passed in', async () => {
    const offenders: string[] = [];
    for (const file of await sources(ENGINE)) {
      const text = await readFile(file, 'utf8');
      for (const line of text.split('\n').filter((l) => /^\s*(import|export)\b.*from\s/.test(l) || /import\(/.test(l))) {
        if (BACKENDS.some((b) => b.test(line))) offenders.push(`${file}: ${line.trim()}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
