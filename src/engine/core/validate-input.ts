import { InvalidArgumentError, PayloadTooDeepError, PayloadTooLargeError } from '../../common/errors.ts';
import type { MachineEvent } from '../../common/history.ts';
import { validateId } from '../../common/validate-id.ts';

export { validateId };

/**
 * Deepest nesting (arrays and objects) of a payload from outside. Stored values are read back
 * through the msgpack codec, which refuses anything deeper than its `MAX_DEPTH` (512); a payload
 * is stored inside history events and the run's snapshot, a few levels down, so the limit at
 * the boundary leaves room for that wrapping. A deeper payload would be accepted and then make
 * its run unreadable (issue 15, bug 2).
 */
export const MAX_PAYLOAD_DEPTH = 256;

/** An event from outside: a plain object with a non-empty string `type`, not one of XState's own. */
export function validateEvent(event: unknown): MachineEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidArgumentError('event must be an object like { type: "APPROVE" }');
  }
  const type = (event as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) throw new InvalidArgumentError('event.type must be a non-empty string');
  if (type.startsWith('xstate.')) throw new InvalidArgumentError(`event.type "${type}" is reserved for XState's own events`);
  // Before JSON.stringify, which recurses: 100,000 levels overflow its stack.
  validatePayloadShape(event, 'event');
  try {
    return JSON.parse(JSON.stringify(event)) as MachineEvent;
  } catch (error) {
    throw new InvalidArgumentError(`event must be plain JSON data: ${(error as Error).message}`);
  }
}

/** Default per-payload limit, as Temporal's: 2 MiB as JSON. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;

/**
 * Refuses a payload (input, event, activity output) larger than `limit` as JSON, nested deeper
 * than `MAX_PAYLOAD_DEPTH`, or with a key the store cannot keep (see validatePayloadShape).
 */
export function validatePayloadSize(value: unknown, field: string, limit: number): void {
  if (value === undefined) return;
  validatePayloadShape(value, field);
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (bytes > limit) throw new PayloadTooLargeError(field, bytes, limit);
}

/**
 * Walks a payload iteratively (a recursive walk is what overflowed) and refuses nesting deeper
 * than `MAX_PAYLOAD_DEPTH` and a `__proto__` key: msgpackr renames such a key to `__proto_` on
 * decode, so it would not come back as it was sent (issue 15, bug 3).
 */
export function validatePayloadShape(root: unknown, field: string): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null || value instanceof Uint8Array || value instanceof Date) continue;
    if (depth >= MAX_PAYLOAD_DEPTH) throw new PayloadTooDeepError(field, MAX_PAYLOAD_DEPTH);
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(value, '__proto__')) {
      throw new InvalidArgumentError(`${field} has a key "__proto__", which cannot be stored as it is: rename the key.`);
    }
    for (const item of Object.values(value)) stack.push({ value: item, depth: depth + 1 });
  }
}
