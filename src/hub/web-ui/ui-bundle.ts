import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceHash } from './source-hash.ts';

/** Where the UI's sources and its Vite config are. */
// The browser app and its build config live in src/ui; this file in src/hub/web-ui (or, built,
// in dist/hub/web-ui, where no app sources are: an installed package never rebuilds the UI).
const APP_DIR = fileURLToPath(new URL('../../ui/app', import.meta.url));
const CONFIG_FILE = fileURLToPath(new URL('../../ui/vite.config.ts', import.meta.url));
/** Where `npm run build:ui` (and so `npm ci`, through `prepare`) puts the bundle. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../dist/web', import.meta.url));

export type BundleState =
  | { kind: 'ready'; files: ReadonlyMap<string, string> }
  | { kind: 'building' }
  | { kind: 'unavailable'; reason: string };

export interface UiBundleOptions {
  /** The built UI. Default: dist/web at the package root. */
  dir?: string;
  /**
   * Build the bundle when it is missing, or older than its sources, and the sources and Vite are
   * there (a git checkout). Default true; false serves whatever `dir` holds.
   */
  build?: boolean;
  log?: { info(message: string): void; warn(message: string): void };
}

/**
 * The web UI's built files, and the build on first start when they are missing.
 *
 * `npm ci` builds the bundle (the root `prepare` script). When it is missing anyway (installed
 * with `--ignore-scripts`) or stale (sources changed by a `git pull` since), the server builds it
 * in the background on start and serves a "being built" page until it is there; a server that
 * cannot (no Vite: a production install) says so on that page and in its log.
 *
 * Concurrency: servers started at once (tests) build once: a lock directory beside the bundle
 * lets one process build while the others wait for it; the bundle is built into a temporary
 * directory and renamed into place, so nobody serves a half-written one.
 */
export class UiBundle {
  readonly dir: string;
  private current: BundleState = { kind: 'building' };

  constructor(private readonly options: UiBundleOptions = {}) {
    this.dir = options.dir ?? DEFAULT_UI_DIR;
  }

  get state(): BundleState {
    return this.current;
  }

  /** Loads the bundle, building it first if needed. Never rejects: failures become 'unavailable'. */
  async load(): Promise<void> {
    try {
      const canBuild = (this.options.build ?? true) && this.options.dir === undefined && existsSync(APP_DIR);
      const hasIndex = existsSync(join(this.dir, 'index.html'));
      if (canBuild && (!hasIndex || !(await this.upToDate()))) {
        if (hasIndex) this.current = { kind: 'ready', files: await listFiles(this.dir) }; // serve the old one meanwhile
        await this.build(hasIndex ? 'older than its sources' : 'missing');
      }
      if (!existsSync(join(this.dir, 'index.html'))) {
        this.current = { kind: 'unavailable', reason: `no web UI bundle in ${this.dir}: run "npm run build:ui" in the perdure checkout (npm ci does it too).` };
        this.options.log?.warn(this.current.reason);
        return;
      }
      this.current = { kind: 'ready', files: await listFiles(this.dir) };
    } catch (error) {
      this.current = { kind: 'unavailable', reason: `the web UI could not be built: ${(error as Error).message}. Run "npm run build:ui" to see why.` };
      this.options.log?.warn(this.current.reason);
    }
  }

  private async upToDate(): Promise<boolean> {
    try {
      const info = JSON.parse(await readFile(join(this.dir, 'build-info.json'), 'utf8')) as { sourceHash?: string };
      return info.sourceHash === sourceHash(APP_DIR, [CONFIG_FILE]);
    } catch {
      return false;
    }
  }

  private async build(why: string): Promise<void> {
    const lock = `${this.dir}.lock`;
    await mkdir(dirname(this.dir), { recursive: true });
    if (!(await acquire(lock))) {
      this.options.log?.info(`web UI bundle ${why}: another process is building it, waiting`);
      await waitForRelease(lock, 180_000);
      return;
    }
    const temp = `${this.dir}.build-${process.pid}`;
    try {
      this.options.log?.info(`web UI bundle ${why}: building it into ${this.dir} (once; npm ci does this too)`);
      let vite: typeof import('vite');
      try {
        vite = await import('vite');
      } catch {
        throw new Error('Vite is not installed here (a production install?); build the UI where the dev dependencies are');
      }
      await vite.build({ configFile: CONFIG_FILE, logLevel: 'warn', build: { outDir: temp, emptyOutDir: true } });
      await rm(this.dir, { recursive: true, force: true });
      await rename(temp, this.dir);
      this.options.log?.info(`web UI bundle built into ${this.dir}`);
    } finally {
      await rm(temp, { recursive: true, force: true });
      await rm(lock, { recursive: true, force: true });
    }
  }
}

/** Takes the lock directory; a lock whose owner died is taken over. */
async function acquire(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => 'NaN'));
    const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
    if (alive(owner) || (Number.isNaN(owner) && age < 5_000)) return false;
    await rm(lock, { recursive: true, force: true });
    return acquire(lock);
  }
  await writeFile(join(lock, 'pid'), String(process.pid));
  return true;
}

async function waitForRelease(lock: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (existsSync(lock) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 250));
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every file of the bundle by URL path ('/assets/index-3f9c.js' → absolute path). */
async function listFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.set(`/${relative(dir, path).split('\\').join('/')}`, path);
    }
  };
  await walk(dir);
  return files;
}
