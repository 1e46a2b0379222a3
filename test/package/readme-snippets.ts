import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.ts';

/**
 * The files of the README's tour: every ```ts block whose first line is a comment naming a file
 * (`// my-workflows.ts — …`), as [file name, text]. The package test writes them into a fresh
 * project, type-checks them and runs them, so the README cannot drift from what works.
 */
export async function readmeFiles(): Promise<Array<[string, string]>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const files: Array<[string, string]> = [];
  for (const [, body] of readme.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = body.match(/^\/\/ ([\w.-]+\.(?:ts|mts))\b/)?.[1];
    if (name) files.push([name, body]);
  }
  if (files.length === 0) throw new Error('README.md has no ```ts block that starts with `// <file>.ts`: the tour is gone');
  return files;
}
