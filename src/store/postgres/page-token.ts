import { InvalidArgumentError } from '../../common/errors.ts';

/**
 * The page tokens of the PostgreSQL listings (runs, schedules): the values a listing resumes
 * after, as base64url JSON. Opaque to callers; a token that does not parse reads as no parts,
 * so each listing's own check refuses it with its one message.
 *
 * @example
 * const token = encodePageToken([fingerprint, last.startedAt, last.runId]);
 * const [f, startedAt, runId] = decodePageToken(token);
 */
export function encodePageToken(parts: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

export function decodePageToken(token: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** What every listing says of a token that is not one of its own. */
export function foreignPageToken(): InvalidArgumentError {
  return new InvalidArgumentError('pageToken does not belong to this listing: pass the token of the previous page of the same query.');
}
