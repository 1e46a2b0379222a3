/**
 * The one form each kind of value takes in the web UI, wherever it appears: durations (a
 * timer's delay on the diagram, in the timers panel and in the history read alike), clock
 * times in the history, and version hashes. Pure, so test/unit/ui tests them without a browser.
 *
 * @example
 * formatDuration(86_400_000); // '1d'
 * formatClock(Date.UTC(2026, 0, 2, 3, 4, 5, 6)); // '2026-01-02 03:04:05.006' in UTC
 * shortVersion('c6030a8c33f3'); // 'c6030a8c'
 */

/** Characters of a version hash shown; the full hash goes in the element's title. */
export const VERSION_CHARS = 8;

/** A machine version (content hash) in its one short form. */
export function shortVersion(version: string): string {
  return version.slice(0, VERSION_CHARS);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A duration in at most two units, largest first, without zero parts: `350ms`, `1.5s`, `12s`,
 * `1m 30s`, `12h`, `1d`, `30d 4h`. A delay written as a round number reads as it was meant
 * (`86400000` → `1d`), and a measured time stays short.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < SECOND) return `${Math.round(ms)}ms`;
  if (ms < 10 * SECOND) return `${Number((ms / SECOND).toFixed(1))}s`;
  if (Math.round(ms / SECOND) < 60) return `${Math.round(ms / SECOND)}s`;
  const [big, small, bigName, smallName] = ms >= DAY ? [DAY, HOUR, 'd', 'h'] as const
    : ms >= HOUR ? [HOUR, MINUTE, 'h', 'm'] as const
      : [MINUTE, SECOND, 'm', 's'] as const;
  // Rounded in the smaller unit first, so 59.6 s of a minute carries into the next minute.
  const total = Math.round(ms / small);
  const perBig = big / small;
  const whole = Math.floor(total / perBig);
  const rest = total % perBig;
  return rest === 0 ? `${whole}${bigName}` : `${whole}${bigName} ${rest}${smallName}`;
}

/**
 * A history event's time: local date and time to the millisecond, the same form the CLI's
 * `workflow history` prints, so a time read in the UI can be found in the CLI's output.
 */
export function formatClock(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
