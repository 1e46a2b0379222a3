import { afterEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '../../../src/common/errors.ts';
import { PendingRequests } from '../../../src/sdk-socket/pending-requests.ts';

afterEach(() => vi.useRealTimers());

describe('PendingRequests', () => {
  it('settles each request with the answer of its own id, once', async () => {
    const pending = new PendingRequests();
    const a = pending.add(Infinity, 'a');
    const b = pending.add(Infinity, 'b');
    expect(a.id).not.toBe(b.id);
    expect(pending.settle({ t: 'ok', id: b.id, value: 'B' })).toBe(true);
    expect(pending.settle({ t: 'error', id: a.id, code: 'INVALID_ARGUMENT', message: 'no' })).toBe(true);
    expect(pending.settle({ t: 'ok', id: a.id, value: 'again' })).toBe(false);
    await expect(a.answer).resolves.toMatchObject({ t: 'error', code: 'INVALID_ARGUMENT' });
    await expect(b.answer).resolves.toMatchObject({ t: 'ok', value: 'B' });
    expect(pending.size).toBe(0);
  });

  it('rejects a request with TimeoutError after its timeout, and forgets it', async () => {
    vi.useFakeTimers();
    const pending = new PendingRequests();
    const { id, answer } = pending.add(1_000, 'a heartbeat');
    const settled = answer.catch((e: unknown) => e);
    vi.advanceTimersByTime(999);
    expect(pending.size).toBe(1);
    vi.advanceTimersByTime(1);
    const error = await settled;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('a heartbeat') });
    expect(pending.settle({ t: 'ok', id })).toBe(false);
  });

  it('rejects every request waiting with the error given', async () => {
    const pending = new PendingRequests();
    const answers = [pending.add(Infinity, 'a'), pending.add(5_000, 'b')].map((r) => r.answer.catch((e: Error) => e.message));
    pending.rejectAll(new Error('gone'));
    expect(await Promise.all(answers)).toEqual(['gone', 'gone']);
    expect(pending.size).toBe(0);
  });

  it('wraps ids below 2^31 and never reuses one still waiting', () => {
    const pending = new PendingRequests();
    (pending as unknown as { nextId: number }).nextId = 2 ** 31 - 1;
    const last = pending.add(Infinity, 'last');
    expect(last.id).toBe(2 ** 31 - 1);
    const waiting = pending.add(Infinity, 'first');
    expect(waiting.id).toBe(1);
    (pending as unknown as { nextId: number }).nextId = 1;
    expect(pending.add(Infinity, 'next').id).toBe(2);
  });
});
