import { InvalidArgumentError, PayloadTooLargeError } from '../common/errors.ts';
import type { MachineEvent } from '../common/history.ts';

const MAX_ID_LENGTH = 1000;

/** Ids (workflow ids, namespaces, keys) are non-empty strings of printable characters. */
export function validateId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(`${field} must be a non-empty string`);
  if (value.length > MAX_ID_LENGTH) throw new InvalidArgumentError(`${field} must be at most ${MAX_ID_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidArgumentError(`${field} must not contain control characters`);
  return value;
}

/** An event from outside: a plain object with a non-empty string `type`, not one of XState's own. */
export function validateEvent(event: unknown): MachineEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidArgumentError('event must be an object like { type: "APPROVE" }');
  }
  const type = (event as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) throw new InvalidArgumentError('event.type must be a non-empty string');
  if (type.startsWith('xstate.')) throw new InvalidArgumentError(`event.type "${type}" is reserved for XState's own events`);
  try {
    return JSON.parse(JSON.stringify(event)) as MachineEvent;
  } catch (error) {
    throw new InvalidArgumentError(`event must be plain JSON data: ${(error as Error).message}`);
  }
}

/** Default per-payload limit, as Temporal's: 2 MiB as JSON. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;

/** Refuses a payload (input, event, activity output) larger than `limit` as JSON. */
export function validatePayloadSize(value: unknown, field: string, limit: number): void {
  if (value === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (bytes > limit) throw new PayloadTooLargeError(field, bytes, limit);
}
