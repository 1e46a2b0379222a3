import type { Store, TimerEntry } from '../../store/store.ts';
import type { Clock, TimerHandle } from '../../common/clock.ts';

const BATCH = 1000;
const RETRY_MS = 1000;

/**
 * Longest single wait. A durable timer is due at a wall-clock instant (it must mean the same
 * after a restart), but a process timer counts elapsed time: when the wall clock is stepped
 * (NTP, an operator, a VM resumed), the two part. Waking at least this often and re-reading the
 * clock bounds the error: after a step forward, timers now due fire within this bound; after a
 * step back, new timers are armed from the new time (issue 15, bug 8; docs/limits.md).
 */
export const MAX_TIMER_WAIT_MS = 60_000;

/**
 * Fires durable timers. The store's timer index is the truth; this keeps one process timer armed
 * for the earliest entry (never longer than MAX_TIMER_WAIT_MS). Timers that came due while the
 * server was down fire on start; the TimerFired event records the actual fire time beside the due time.
 */
export class TimerService {
  private handle: TimerHandle;
  /** The clock time of the next wake-up (the due time armed for, or the end of a bounded wait). */
  private armedFor = Infinity;
  private running = false;
  private again = false;
  private stopped = false;
  /** A virtual clock is never stepped: bounding its waits would only add wake-ups to skip through. */
  private readonly maxWaitMs: number;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Fires one entry; resolves once the execution has handled it (or decided it cannot now). */
    private readonly fire: (entry: TimerEntry) => Promise<void>,
  ) {
    this.maxWaitMs = clock.stepFree ? Infinity : MAX_TIMER_WAIT_MS;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** A timer due at `dueAt` was committed: make sure we wake up for it. */
  notify(dueAt: number): void {
    if (this.stopped) return;
    // A wake-up further away than one bounded wait means the clock was stepped back since it was
    // armed: arm again from the time as it is now.
    if (dueAt < this.armedFor || this.armedFor - this.clock.now() > this.maxWaitMs) this.arm(dueAt);
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.handle);
  }

  private arm(dueAt: number): void {
    this.clock.clearTimeout(this.handle);
    const now = this.clock.now();
    const wait = Math.min(Math.max(0, dueAt - now), this.maxWaitMs);
    this.armedFor = now + wait;
    // The tick re-reads the clock and looks at the store: a bounded wait that ends before the
    // due time just arms the next one.
    this.handle = this.clock.setTimeout(() => void this.tick(), wait);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      // The process timer that brought us here has fired: nothing is armed until the running
      // tick arms for what is upcoming, so a notify() in between must arm again.
      this.armedFor = Infinity;
      this.again = true;
      return;
    }
    this.running = true;
    this.armedFor = Infinity;
    // Entries that could not fire this round (their run is blocked on a missing version, or the
    // store failed): retried after RETRY_MS, without holding up the timers behind them.
    const failed = new Set<string>();
    try {
      do {
        this.again = false;
        for (;;) {
          const due = (await this.store.listDueTimers(this.clock.now(), BATCH)).filter((e) => !failed.has(entryKey(e)));
          if (due.length === 0 || this.stopped) break;
          const results = await Promise.allSettled(due.map((entry) => this.fire(entry)));
          results.forEach((r, i) => r.status === 'rejected' && failed.add(entryKey(due[i]!)));
        }
      } while (this.again && !this.stopped);
      if (this.stopped) return;
      // The earliest entry that did not just fail tells when to wake; failed ones are looked at
      // again after RETRY_MS.
      const upcoming = (await this.store.listDueTimers(Number.MAX_SAFE_INTEGER, failed.size + 1)).find((e) => !failed.has(entryKey(e)));
      const retryAt = failed.size > 0 ? this.clock.now() + RETRY_MS : Infinity;
      const at = Math.min(upcoming?.dueAt ?? Infinity, retryAt);
      if (at !== Infinity && at < this.armedFor) this.arm(at);
    } catch {
      if (!this.stopped) this.arm(this.clock.now() + RETRY_MS);
    } finally {
      this.running = false;
      // A wake-up that came while this tick was past its loop (reading what is upcoming) would
      // otherwise be lost: its process timer has fired already and found us running.
      if (this.again && !this.stopped) void this.tick();
    }
  }
}

function entryKey(entry: TimerEntry): string {
  return `${entry.runId}\u0000${entry.kind}\u0000${entry.id}`;
}
