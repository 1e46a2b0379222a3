import type { Store, TimerEntry } from '../store/store.ts';
import type { Clock, TimerHandle } from './clock.ts';

const BATCH = 1000;
const RETRY_MS = 1000;

/**
 * Fires durable timers. The store's timer index is the truth; this keeps one process timer armed
 * for the earliest entry. Timers that came due while the server was down fire on start; the
 * TimerFired event records the actual fire time beside the due time.
 */
export class TimerService {
  private handle: TimerHandle;
  private armedFor = Infinity;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Fires one entry; resolves once the execution has handled it (or decided it cannot now). */
    private readonly fire: (entry: TimerEntry) => Promise<void>,
  ) {}

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** A timer due at `dueAt` was committed: make sure we wake up for it. */
  notify(dueAt: number): void {
    if (this.stopped) return;
    if (dueAt < this.armedFor) this.arm(dueAt);
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.handle);
  }

  private arm(dueAt: number): void {
    this.clock.clearTimeout(this.handle);
    this.armedFor = dueAt;
    this.handle = this.clock.setTimeout(() => void this.tick(), dueAt - this.clock.now());
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.armedFor = Infinity;
    try {
      let stuck = false;
      for (;;) {
        this.again = false;
        const due = await this.store.listDueTimers(this.clock.now(), BATCH);
        const results = await Promise.allSettled(due.map((entry) => this.fire(entry)));
        stuck ||= results.some((r) => r.status === 'rejected');
        if (due.length < BATCH && !this.again) break;
        if (stuck || this.stopped) break;
      }
      const next = await this.store.nextTimer();
      if (next && !this.stopped) {
        // An entry still due after firing belongs to a run that cannot move now (blocked on a
        // missing version, or a failed store): look again later rather than spin.
        const at = next.dueAt <= this.clock.now() ? this.clock.now() + RETRY_MS : next.dueAt;
        if (at < this.armedFor) this.arm(at);
      }
    } catch {
      if (!this.stopped) this.arm(this.clock.now() + RETRY_MS);
    } finally {
      this.running = false;
    }
  }
}
