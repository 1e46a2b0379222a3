import { StoreCorruptedError } from '../common/errors.ts';

/**
 * How LevelDB's errors become Perdure's. classic-level gives each a `code` (on the error or on
 * its cause); a corruption — a failed block checksum, an overwritten table, a bad CURRENT — is a
 * damaged data directory, never an INTERNAL error to retry (issue 15, bug 4).
 */
export function isLockedError(error: unknown): boolean {
  return codeOf(error) === 'LEVEL_LOCKED';
}

export function isCorruption(error: unknown): boolean {
  return codeOf(error) === 'LEVEL_CORRUPTION';
}

/**
 * Runs a read, turning a LevelDB corruption into STORE_CORRUPTED naming what was read; every
 * other error passes through unchanged.
 *
 * @example
 * return mapCorruption(directory, `the history of run "${runId}"`, () => db.iterator(range).all())
 */
export async function mapCorruption<T>(directory: string, what: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isCorruption(error)) throw corrupted(directory, what, error);
    throw error;
  }
}

export function corrupted(directory: string, what: string, cause: unknown): StoreCorruptedError {
  return new StoreCorruptedError(directory, `LevelDB could not read ${what} (${messageOf(cause)})`, { cause });
}

export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}

function codeOf(error: unknown): unknown {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return e?.cause?.code === 'LEVEL_LOCKED' || e?.cause?.code === 'LEVEL_CORRUPTION' ? e.cause.code : e?.code;
}
