import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './cluster-node-process.ts';

const run = promisify(execFile);

export interface PostgresBinaries {
  available: boolean;
  bindir?: string;
  reason?: string;
}

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /**
   * Stops the server (`fast`: backends are told to exit, a clean shutdown; `immediate`: they are
   * killed and the next start recovers from the WAL, as after a crash), waits `downMs` with
   * nothing listening, and starts it again on the same port. Resolves once it accepts connections.
   */
  restart(options: { mode: 'fast' | 'immediate'; downMs: number; whileDown?: () => Promise<void> }): Promise<void>;
  /** Stops the server and deletes its data directory. */
  destroy(): Promise<void>;
}

let found: PostgresBinaries | undefined;

/** initdb and pg_ctl, found once per test file; see startPrivatePostgres. */
export function findPostgresBinaries(): PostgresBinaries {
  found ??= (() => {
    let bindir = process.env.PERDURE_TEST_PG_BIN;
    if (!bindir) {
      try {
        bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
      } catch {
        bindir = undefined;
      }
    }
    if (bindir && existsSync(join(bindir, 'initdb')) && existsSync(join(bindir, 'pg_ctl'))) return { available: true, bindir };
    const reason = `PostgreSQL's initdb and pg_ctl were not found (${bindir ? `not in ${bindir}` : 'no pg_config on PATH'}; set PERDURE_TEST_PG_BIN to their directory)`;
    if (process.env.PERDURE_REQUIRE_PG === '1') throw new Error(`${reason}, and PERDURE_REQUIRE_PG=1 requires them.`);
    console.warn(`skipping the tests that restart PostgreSQL: ${reason}.`);
    return { available: false, reason };
  })();
  return found;
}

/**
 * A PostgreSQL server of a test's own: `initdb` into a temp directory, `pg_ctl` on a free port.
 * For the tests that restart or stop the database, which must not take down the shared server
 * that every other test (running in parallel) uses. The binaries are PostgreSQL's own
 * (`pg_config --bindir`, or `PERDURE_TEST_PG_BIN`); as root they run as the `postgres` user,
 * since PostgreSQL refuses to run as root.
 *
 * When the binaries are missing the tests skip with a line that says so, unless
 * `PERDURE_REQUIRE_PG=1`: then `findPostgresBinaries` throws, as `probePostgres` does.
 *
 * @example
 * const server = await startPrivatePostgres(binaries);
 * await server.restart({ mode: 'immediate', downMs: 2_000 });
 * await server.destroy();
 */
export async function startPrivatePostgres(binaries: PostgresBinaries): Promise<PrivatePostgres> {
  if (!binaries.bindir) throw new Error(`no PostgreSQL binaries: ${binaries.reason}`);
  const bin = (name: string) => join(binaries.bindir!, name);
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL will not run as root: as root, its commands run as the `postgres` user.
  const pgCommand = (name: string, args: string[]) => run(asRoot ? 'runuser' : bin(name), asRoot ? ['-u', 'postgres', '--', bin(name), ...args] : args, { timeout: 60_000 });
  const dir = mkdtempSync(join(tmpdir(), 'perdure-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  await pgCommand('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  // Its socket goes in its own directory, so it never meets the shared server's.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c max_connections=60`;
  const start = () => pgCommand('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = (mode: 'fast' | 'immediate') => pgCommand('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async restart({ mode, downMs, whileDown }) {
      await stop(mode);
      running = false;
      const down = new Promise((resolve) => setTimeout(resolve, downMs));
      await Promise.all([down, whileDown?.()]);
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop('immediate').catch(() => {});
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
