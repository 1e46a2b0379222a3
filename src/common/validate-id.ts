import { InvalidArgumentError } from './errors.ts';

/** Longest id accepted: workflow ids, namespaces, schedule ids, idempotency keys. */
export const MAX_ID_LENGTH = 1000;

/**
 * Ids (workflow ids, namespaces, schedule ids, keys) are non-empty strings of printable
 * characters: they become store keys, log fields and URL path segments.
 *
 * @example
 * validateId(body.workflowId, 'workflowId'); // 'order-42', or INVALID_ARGUMENT naming the field
 */
export function validateId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(`${field} must be a non-empty string`);
  if (value.length > MAX_ID_LENGTH) throw new InvalidArgumentError(`${field} must be at most ${MAX_ID_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidArgumentError(`${field} must not contain control characters`);
  return value;
}
