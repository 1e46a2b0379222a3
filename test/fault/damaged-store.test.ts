import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, startCliServer } from '../helpers/cli.ts';
import { workflowApi } from '../helpers/workflow-http.ts';

// Damaged store files, as a failing disk or a careless copy leaves them (issue 11): a data
// directory written by a real `perdure server`, then, with the server stopped, a truncated
// MANIFEST or a table file overwritten with zeros. `perdure server` must refuse to start with
// STORE_CORRUPTED naming the directory and the fix, exit non-zero, and repair nothing: LevelDB's
// repair can drop data, so only an operator (with a backup) may choose it.

let root: string;
let pristine: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'perdure-damaged-'));
  pristine = join(root, 'pristine');
  // Two runs of the server: the first writes the executions (into LevelDB's log), the second
  // opens the directory, which turns that log into a table file, and stops.
  let server = await startCliServer(pristine);
  const api = workflowApi(server.url);
  for (let i = 0; i < 5; i++) expect((await api.start('threeStep', `kept-${i}`, { n: i })).status).toBe(201);
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  server = await startCliServer(pristine);
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}, 120_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of the pristine directory, with `damage` done to it. */
async function damagedCopy(name: string, damage: (dir: string, files: string[]) => Promise<string>): Promise<{ dir: string; file: string }> {
  const dir = join(root, name);
  await cp(pristine, dir, { recursive: true });
  const file = await damage(dir, await readdir(dir));
  return { dir, file };
}

/**
 * Hashes of the store's files that hold data. `tablesAndLogs` leaves out LevelDB's bookkeeping
 * (CURRENT, MANIFEST-*) and empty logs: an open that gets past the MANIFEST always writes a new
 * MANIFEST and a new empty log and deletes the old ones, before anything reads a table (see the
 * zeroed-table case). LOG, LOG.old and LOCK are rewritten by every open.
 */
async function storeFiles(dir: string, tablesAndLogs = false): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    if (name === 'LOCK' || name.startsWith('LOG')) continue;
    if (tablesAndLogs && (name === 'CURRENT' || name.startsWith('MANIFEST-') || (name.endsWith('.log') && (await stat(join(dir, name))).size === 0))) continue;
    out[name] = createHash('sha256').update(await readFile(join(dir, name))).digest('hex');
  }
  return out;
}

/** `perdure server` on `dir`, to its exit (or killed, if it started listening: the failure to see). */
function runServer(dir: string): Promise<{ code: number | null; stdout: string; stderr: string; listened: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'server', '--port', '0', '--data', dir, '--workflows', 'machines/index.ts', '--durability', 'os'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let listened = false;
    child.stdout.on('data', (c) => {
      stdout += c;
      if (!listened && stdout.includes('"url"')) {
        listened = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, listened }));
  });
}

async function expectRefusal(dir: string, tablesAndLogs = false): Promise<string> {
  const before = await storeFiles(dir, tablesAndLogs);
  const run = await runServer(dir);
  const said = run.stdout + run.stderr;
  expect(run.listened, `the server should not have started:\n${said}`).toBe(false);
  expect(run.code, said).toBe(1);
  expect(said).toContain('STORE_CORRUPTED');
  expect(said).toContain(dir);
  expect(said).toMatch(/restore the directory from a backup/);
  expect(await storeFiles(dir, tablesAndLogs), 'no data file of the store was changed (no silent repair)').toEqual(before);
  return said;
}

describe('perdure server on a damaged data directory', () => {
  it('refuses to start on a truncated MANIFEST with STORE_CORRUPTED naming the directory, exits non-zero, repairs nothing', async () => {
    const { dir, file } = await damagedCopy('manifest', async (d, files) => {
      const manifest = files.find((f) => f.startsWith('MANIFEST-'))!;
      const size = (await stat(join(d, manifest))).size;
      await truncate(join(d, manifest), Math.floor(size / 2));
      return manifest;
    });
    // Refused as LevelDB opens, before it writes anything: every file is as it was.
    const said = await expectRefusal(dir);
    expect(said).toMatch(/at start-up/);
    console.log(`truncated ${file}: refused with ${said.match(/STORE_CORRUPTED[^\n]*/)?.[0].slice(0, 200)}`);
  }, 60_000);

  it('refuses to start on a table file overwritten with zeros, exits non-zero, repairs nothing', async () => {
    const { dir, file } = await damagedCopy('table', async (d, files) => {
      const table = files.find((f) => f.endsWith('.ldb') || f.endsWith('.sst'));
      expect(table, `a table file in ${JSON.stringify(files)}`).toBeDefined();
      await writeFile(join(d, table!), Buffer.alloc((await stat(join(d, table!))).size));
      return table!;
    });
    // The open itself succeeds (LevelDB reads no table to open, and rotates its MANIFEST and log
    // as on every open); the first read at start-up meets the zeroed table and the server stops
    // there, before it listens. The zeroed file stays as it was, so does every other table, and
    // a second start is refused the same way. (Here the one table holds the namespace and run
    // records that start-up reads. A zeroed table holding only other keys would be found by the
    // first read that needs it, as STORE_CORRUPTED on that read: store-corruption.test.ts.)
    const said = await expectRefusal(dir, true);
    expect(said).toMatch(/at start-up/);
    await expectRefusal(dir, true);
    expect((await readFile(join(dir, file))).every((b) => b === 0), `${file} is still all zeros`).toBe(true);
    console.log(`zeroed ${file}: refused with ${said.match(/STORE_CORRUPTED[^\n]*/)?.[0].slice(0, 200)}`);
  }, 60_000);
});
