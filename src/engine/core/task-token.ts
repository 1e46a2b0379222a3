import { InvalidArgumentError } from '../../common/errors.ts';

/**
 * What a task token names. Tokens are opaque to workers; only the server reads them. The shard
 * says which shard runtime (and, in a cluster, which node) a completion goes back to; the
 * attempt makes a token of an earlier attempt stale.
 */
export interface TaskRef {
  namespace: string;
  shard: number;
  runId: string;
  activityId: string;
  attempt: number;
}

export function encodeTaskToken(ref: TaskRef): string {
  return Buffer.from(JSON.stringify([ref.namespace, ref.runId, ref.activityId, ref.attempt, ref.shard])).toString('base64url');
}

export function decodeTaskToken(token: unknown): TaskRef {
  try {
    const parts = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parts) && (parts.length === 4 || parts.length === 5) && typeof parts[0] === 'string' && typeof parts[1] === 'string'
      && typeof parts[2] === 'string' && Number.isInteger(parts[3]) && (parts.length === 4 || (Number.isInteger(parts[4]) && parts[4] >= 0))) {
      // A token without a shard was handed out before tokens named one, by a server on one shard.
      return { namespace: parts[0], runId: parts[1], activityId: parts[2], attempt: parts[3] as number, shard: (parts[4] as number | undefined) ?? 0 };
    }
  } catch {
    // fall through to the one error below
  }
  throw new InvalidArgumentError(`malformed task token ${JSON.stringify(String(token).slice(0, 80))}: pass the taskToken of a task as received`);
}
