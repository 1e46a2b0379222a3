import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

// The light SDK package is built from perdure's sources: it must carry the same version and
// the same dependency ranges, or a user mixing the two would run SDK code against other
// versions of xstate, ws or msgpackr than the ones it was tested with.
const read = async (path: string) => JSON.parse(await readFile(new URL(`../../${path}`, import.meta.url), 'utf8'));

describe('package manifests', () => {
  it('gives @perdure/sdk the version and the dependency ranges of perdure', async () => {
    const [root, sdk] = await Promise.all([read('package.json'), read('packages/sdk/package.json')]);
    expect(sdk.version).toBe(root.version);
    for (const [name, range] of Object.entries(sdk.dependencies)) expect(range, name).toBe(root.dependencies[name]);
  });

  it('points every export of perdure at built JavaScript with its declarations', async () => {
    const root = await read('package.json');
    for (const [entry, target] of Object.entries(root.exports)) {
      if (entry === './package.json') continue;
      expect(target, entry).toMatchObject({ types: expect.stringMatching(/^\.\/dist\/.*\.d\.ts$/), import: expect.stringMatching(/^\.\/dist\/.*\.js$/) });
    }
    expect(root.bin.perdure).toBe('bin/perdure.js');
    expect(root.files).not.toContain('test');
  });
});
