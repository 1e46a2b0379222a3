import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * `<directory>/OWNER` names the process that holds a data directory open, so a second process
 * that finds the LevelDB LOCK taken can say who holds it. It is advisory only: the LOCK file is
 * what excludes; OWNER may be missing (the holder is just starting) or stale (it was killed).
 */
interface Owner {
  pid: number;
  hostname: string;
  startedAt: string;
}

const FILE = 'OWNER';

/**
 * Records this process as the owner of `directory` (call once the lock is held).
 *
 * @example
 * await db.open(); await writeOwner(directory)
 */
export async function writeOwner(directory: string): Promise<void> {
  const owner: Owner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  await writeFile(join(directory, FILE), `${JSON.stringify(owner)}\n`);
}

/**
 * Who owns `directory`, as `pid 1234 on host x since <ISO time>`, or undefined if unknown.
 *
 * @example
 * throw new StoreLockedError(directory, { holder: await describeOwner(directory) })
 */
export async function describeOwner(directory: string): Promise<string | undefined> {
  try {
    const owner = JSON.parse(await readFile(join(directory, FILE), 'utf8')) as Partial<Owner>;
    if (typeof owner.pid !== 'number') return undefined;
    return `pid ${owner.pid} on host ${owner.hostname ?? '?'} since ${owner.startedAt ?? '?'}`;
  } catch {
    return undefined; // missing or half-written: the message falls back to "another process"
  }
}

/**
 * Removes the OWNER file (call before releasing the lock).
 *
 * @example
 * await removeOwner(directory); await db.close()
 */
export async function removeOwner(directory: string): Promise<void> {
  await rm(join(directory, FILE), { force: true });
}
