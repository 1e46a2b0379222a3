import { createHash } from 'node:crypto';

/**
 * A run id derived from the parts that make it unique (a parent run, a child id, a seq): the
 * same on every retry of the work that creates the run, so a retry after a crash finds the run
 * it already made instead of making a second one. Shaped like a UUID (version 8, "custom").
 */
export function derivedRunId(...parts: (string | number)[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
