import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * A hash of the web UI's sources: every file under `src/ui/app`, the Vite config, and the files
 * outside the app that it imports by relative path (the shared types of `src/common` and the
 * Stately export of `src/definition`, followed transitively). The build writes it into the bundle
 * (`build-info.json`); the server compares it at start to tell a bundle that is older than its
 * sources (after a `git pull` without `npm install`) and rebuilds.
 *
 * @example
 * sourceHash(fileURLToPath(new URL('../../ui/app', import.meta.url))); // 'c0ffee…'
 */
export function sourceHash(appDir: string, extraFiles: readonly string[] = []): string {
  const hash = createHash('sha256');
  const appFiles = walk(appDir);
  const files = [...new Set([...appFiles, ...importedOutside(appDir, appFiles), ...extraFiles])].sort();
  for (const file of files) {
    hash.update(relative(appDir, file).replaceAll('\\', '/'));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

/** `from '../../ui/x.ts'`, `import('../../y.ts')`: the relative specifiers of a module (explicit `.ts` imports, as the project writes them). */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.\.?\/[^'"]+)['"]/g;

/** The files outside `appDir` that the app's sources import, and the files those import. */
function importedOutside(appDir: string, appFiles: readonly string[]): string[] {
  const inside = (file: string) => file === appDir || file.startsWith(appDir + sep);
  const found = new Set<string>();
  const queue = appFiles.filter((f) => /\.tsx?$/.test(f));
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      const target = resolve(dirname(file), specifier!);
      if (inside(target) || found.has(target) || !/\.tsx?$/.test(target)) continue;
      found.add(target);
      queue.push(target);
    }
  }
  return [...found];
}
