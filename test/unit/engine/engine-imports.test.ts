import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENGINE = new URL('../../../src/engine/', import.meta.url);
const CORE = new URL('../../../src/engine/core/', import.meta.url);

async function sources(dir: URL): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

/** Every import and re-export of a file: its specifier and whether it is type-only. */
async function importsOf(file: string): Promise<{ specifier: string; typeOnly: boolean }[]> {
  const text = await readFile(file, 'utf8');
  const found: { specifier: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)(\s+type)?\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gms)) {
    found.push({ specifier: m[3]!, typeOnly: m[2] !== undefined });
  }
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1]!, typeOnly: false });
  return found;
}

describe('the engine', () => {
  // The engine runs on whatever Store it is given (LevelDB, PostgreSQL, a third-party one that
  // passes the conformance suite): nothing under src/engine may import a backend, or the
  // cluster's PostgreSQL nodes would load LevelDB and the engine would pick its own store again.
  it('imports no store backend: the store is passed in', async () => {
    const BACKENDS = [/store\/level-/, /store\/postgres\//, /^classic-level$/, /^pg$/, /store\/group-commit/];
    const offenders: string[] = [];
    for (const file of await sources(ENGINE)) {
      for (const { specifier } of await importsOf(file)) {
        if (BACKENDS.some((b) => b.test(specifier))) offenders.push(`${relative(ENGINE.pathname, file)}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  // The core decides; the runtime acts. The core must stay pure so that replay, reset and the
  // UI's state path can run it with no engine around it: it takes nothing from the runtime, the
  // hub or a store backend — only shared vocabulary, definitions, XState and the store's types.
  it('keeps its core pure: common/, definition/, xstate, node: built-ins and store types only', async () => {
    const offenders: string[] = [];
    for (const file of await sources(CORE)) {
      for (const { specifier, typeOnly } of await importsOf(file)) {
        const allowed = (specifier.startsWith('./') && !specifier.includes('/', 2))
          || /^\.\.\/\.\.\/(common|definition)\//.test(specifier)
          || specifier === 'xstate' || specifier.startsWith('node:')
          || (typeOnly && specifier === '../../store/store.ts');
        if (!allowed) offenders.push(`${relative(CORE.pathname, file)}: ${typeOnly ? 'type ' : ''}${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
