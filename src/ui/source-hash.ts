import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * A hash of the web UI's sources (every file under `src/ui/app`, and the Vite config). The build
 * writes it into the bundle (`build-info.json`); the server compares it at start to tell a
 * bundle that is older than its sources (after a `git pull` without `npm install`) and rebuilds.
 *
 * @example
 * sourceHash(fileURLToPath(new URL('./app', import.meta.url))); // 'c0ffee…'
 */
export function sourceHash(appDir: string, extraFiles: readonly string[] = []): string {
  const hash = createHash('sha256');
  const files = [...walk(appDir), ...extraFiles].sort();
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
