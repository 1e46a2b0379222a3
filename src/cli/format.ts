/**
 * Output of the `perdure` command: aligned tables and key/value blocks for people, and one
 * JSON document for scripts (`--json`).
 *
 * @example
 * console.log(table([{ id: 'a-1', status: 'running' }], ['id', 'status']));
 * // ID   STATUS
 * // a-1  running
 */

/** Longest cell in a table, in characters; longer values are cut with an ellipsis. */
const MAX_CELL = 60;

/** Rows as a table with upper-case headers; `columns` picks and orders the keys. */
export function table(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const keys = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((row) => keys.map((k) => cell(row[k])));
  const headers = keys.map((k) => k.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase());
  const widths = keys.map((_, i) => Math.max(headers[i]!.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `key: value` lines with the values aligned. */
export function keyValues(pairs: readonly (readonly [string, unknown])[]): string {
  const shown = pairs.filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}  ${typeof v === 'string' ? v : compact(v, 1000)}`).join('\n');
}

/** One value in a table cell: strings as they are, `-` for nothing, anything else as JSON. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  const text = typeof value === 'string' ? value : compact(value, MAX_CELL);
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/** Compact JSON, cut at `max` characters. */
export function compact(value: unknown, max: number): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A server timestamp (ms since the epoch) as local ISO-like time, `-` when absent. */
export function time(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Prints a value as indented JSON (for `--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
