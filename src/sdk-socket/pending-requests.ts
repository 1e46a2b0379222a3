import { TimeoutError } from '../common/errors.ts';
import type { AnswerFrame } from './server-frames.ts';

/** Ids stay within a msgpack int32 (and well inside the server's `requestId` schema). */
const MAX_REQUEST_ID = 2 ** 31 - 1;
/** The longest delay setTimeout honours; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Pending {
  resolve(answer: AnswerFrame): void;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Requests sent and not answered yet, by id: the server answers each `{ id }` with one `ok` or
 * `error` of the same id, in any order. An id is never reused while its request waits (ids wrap
 * after 2^31 - 1), so an answer can only settle the request it was meant for; an answer nobody
 * waits for (a duplicate, or one that came after its timeout) is ignored.
 *
 * @example
 * const { id, answer } = pending.add(30_000, 'heartbeat');
 * socket.send(encode({ t: 'heartbeat', id, taskToken, details }));
 * // on each ok/error frame: pending.settle(frame)
 * // on disconnect:          pending.rejectAll(new ConnectionLostError(…, true))
 */
export class PendingRequests {
  private nextId = 1;
  private readonly waiting = new Map<number, Pending>();

  /** How many requests wait for an answer. */
  get size(): number {
    return this.waiting.size;
  }

  /**
   * Takes an id for a new request. Its answer rejects with TimeoutError (TIMEOUT) when none came
   * within `timeoutMs` (`Infinity`: it waits until the connection ends).
   */
  add(timeoutMs: number, what: string): { id: number; answer: Promise<AnswerFrame> } {
    const id = this.takeId();
    const answer = new Promise<AnswerFrame>((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      if (timeoutMs <= MAX_TIMER_MS) {
        pending.timer = setTimeout(() => {
          this.waiting.delete(id);
          reject(new TimeoutError(`no answer from the server to ${what} (request ${id}) within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.timer.unref();
      }
      this.waiting.set(id, pending);
    });
    return { id, answer };
  }

  /** Settles the request the answer names; false when none waits for it. */
  settle(frame: AnswerFrame): boolean {
    const pending = this.take(frame.id);
    pending?.resolve(frame);
    return pending !== undefined;
  }

  /** Rejects one request (it could not be sent, say); false when it no longer waits. */
  reject(id: number, error: Error): boolean {
    const pending = this.take(id);
    pending?.reject(error);
    return pending !== undefined;
  }

  /** Rejects every request waiting: their connection is gone, and their answers with it. */
  rejectAll(error: Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const pending of all) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  private take(id: number): Pending | undefined {
    const pending = this.waiting.get(id);
    if (!pending) return undefined;
    this.waiting.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  private takeId(): number {
    let id = this.nextId;
    while (this.waiting.has(id)) id = id >= MAX_REQUEST_ID ? 1 : id + 1;
    this.nextId = id >= MAX_REQUEST_ID ? 1 : id + 1;
    return id;
  }
}
