import { describe, it, expect } from 'vitest';
import { Mailbox } from '../../../src/engine/runtime/mailbox.ts';

/** A promise settled from outside, so a test decides when each job's await returns. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every already-queued promise reaction run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Mailbox', () => {
  it('runs jobs one at a time in the order they were enqueued, even when they await', async () => {
    const mailbox = new Mailbox();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const results = gates.map((gate, i) =>
      mailbox.enqueue(async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );

    await settle();
    expect(log).toEqual(['start 0']);
    // Opening a later gate first must not let its job overtake the one still running.
    gates[2].resolve();
    gates[1].resolve();
    await settle();
    expect(log).toEqual(['start 0']);
    gates[0].resolve();

    expect(await Promise.all(results)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('rejects only the job that failed and goes on with the jobs after it', async () => {
    const mailbox = new Mailbox();
    const ran: number[] = [];
    const first = mailbox.enqueue(async () => {
      ran.push(1);
      throw new Error('job 1 failed');
    });
    const second = mailbox.enqueue(() => {
      ran.push(2);
      return Promise.reject(new Error('job 2 failed'));
    });
    const third = mailbox.enqueue(async () => {
      ran.push(3);
      return 'three';
    });

    await expect(first).rejects.toThrow('job 1 failed');
    await expect(second).rejects.toThrow('job 2 failed');
    await expect(third).resolves.toBe('three');
    expect(ran).toEqual([1, 2, 3]);
  });

  it('goes on after a job that throws before returning a promise', async () => {
    const mailbox = new Mailbox();
    const failing = mailbox.enqueue((): Promise<void> => {
      throw new Error('thrown synchronously');
    });
    const next = mailbox.enqueue(async () => 'next');
    await expect(failing).rejects.toThrow('thrown synchronously');
    await expect(next).resolves.toBe('next');
  });

  it('is idle only when no job is queued or running', async () => {
    const mailbox = new Mailbox();
    expect(mailbox.idle).toBe(true);

    const gates = [deferred(), deferred()];
    const jobs = gates.map((gate) => mailbox.enqueue(() => gate.promise));
    expect(mailbox.idle).toBe(false);

    gates[0].resolve();
    await jobs[0];
    expect(mailbox.idle).toBe(false); // the second job is still waiting on its gate

    gates[1].reject(new Error('second failed'));
    await expect(jobs[1]).rejects.toThrow('second failed');
    expect(mailbox.idle).toBe(true);
  });
});
