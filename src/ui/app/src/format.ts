// The shared formatters (lib/formatters.ts), so that a page imports every formatter from here.
export { formatClock, formatDuration, shortVersion } from './lib/formatters.ts';
import { formatDuration } from './lib/formatters.ts';
// One formatter for a state value, shared with the CLI.
export { stateValueText as stateText } from '../../../common/state-value.ts';

/** "14:03:22" today, "Mar 3, 14:03" otherwise. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour12: false })
    : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

export function formatAgo(ms: number | undefined, now: number): string {
  if (ms === undefined) return '—';
  const d = now - ms;
  if (d < 0) return `in ${formatDuration(-d)}`;
  if (d < 1500) return 'just now';
  return `${formatDuration(d)} ago`;
}

export function shortId(id: string, n = 8): string {
  return id.length > n ? id.slice(0, n) : id;
}

/** "812 B", "12.4 KB", "3.1 MB" (1 KB = 1024 B). */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
