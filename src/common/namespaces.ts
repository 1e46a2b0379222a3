import type { Duration } from './activity-options.ts';
import { toMs } from './duration.ts';
import { InvalidArgumentError } from './errors.ts';

/**
 * A namespace: the unit that isolates executions, task queues and tokens, with its retention
 * (how long a closed execution is kept before the server deletes it). Shared by the store, the
 * engine, the wire and the SDKs.
 *
 * @example
 * const billing: NamespaceInfo = { name: 'billing', retention: 7 * 86_400_000, createdAt: Date.now(), updatedAt: Date.now() };
 */
export interface NamespaceInfo {
  name: string;
  description?: string;
  /** How long a closed execution is kept after it closed, in ms. */
  retention: number;
  /** ms since the epoch. */
  createdAt: number;
  updatedAt: number;
}

/** The namespace every store has from its first open, and the one used when none is named. */
export const DEFAULT_NAMESPACE = 'default';

/**
 * Retention of `default` (made on a store's first open) and of a namespace created without one:
 * 30 days. Temporal's CLI defaults to 72 h, which suits a cluster with an archive behind it; an
 * embedded store is often the only copy of a workflow's history, so it keeps closed executions
 * for a month: long enough to debug last week's failure, short enough that the disk does not fill.
 */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000;

/** Shortest retention: one second (anything shorter would delete a run before its caller reads the result). */
export const MIN_RETENTION_MS = 1_000;
/** Longest retention: 100 years (close time + retention must stay a safe integer of ms). */
export const MAX_RETENTION_MS = 100 * 365 * 86_400_000;
export const MAX_DESCRIPTION_LENGTH = 1000;
const MAX_NAME_LENGTH = 200;

/**
 * Letters, digits, `.`, `_`, `-`, starting with a letter or digit: names appear in URLs, token
 * files (whitespace-separated, `*` meaning every namespace) and shell commands, so they keep to
 * characters that need no quoting in any of them.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A namespace name to create, checked (INVALID_ARGUMENT saying what is allowed). */
export function validateNamespaceName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('namespace name must be a non-empty string');
  if (name.length > MAX_NAME_LENGTH || !NAME.test(name)) {
    throw new InvalidArgumentError(
      `namespace name ${JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name)} is not allowed: use 1 to ${MAX_NAME_LENGTH} ` +
        'letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. "billing", "team-a.prod").',
    );
  }
  return name;
}

/** A retention as ms: a Duration ('30d', '72h', or ms) within [1 s, 100 years]. */
export function retentionMs(retention: Duration | string): number {
  const ms = toMs(retention as Duration, 'retention');
  if (!Number.isSafeInteger(Math.round(ms)) || ms < MIN_RETENTION_MS || ms > MAX_RETENTION_MS) {
    throw new InvalidArgumentError(`retention must be between 1s and 36500d, got ${JSON.stringify(retention)}`);
  }
  return Math.round(ms);
}

/** A description of at most 1000 characters; on update, the empty string removes it. */
export function validateDescription(description: unknown): string {
  if (typeof description !== 'string') throw new InvalidArgumentError('description must be a string');
  if (description.length > MAX_DESCRIPTION_LENGTH) throw new InvalidArgumentError(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  return description;
}
