import { describe, expect, it } from 'vitest';
import { type BatchOperation, GroupCommitter } from '../../../src/store/group-commit.ts';

/** A batch target whose writes finish only when the test says so. */
function controlledTarget() {
  const writes: Array<{ operations: BatchOperation[]; sync: boolean; finish(error?: Error): void }> = [];
  return {
    writes,
    batch(operations: BatchOperation[], options: { sync: boolean }) {
      return new Promise<void>((resolve, reject) => {
        writes.push({ operations, sync: options.sync, finish: (error) => (error ? reject(error) : resolve()) });
      });
    },
  };
}

const put = (key: string): BatchOperation => ({ type: 'put', key, value: Buffer.from(key) });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitter', () => {
  it('writes submissions that arrive during a write as one batch, each caller resolving when it is durable', async () => {
    const target = controlledTarget();
    const committer = new GroupCommitter(target, { sync: true, label: 'test' });
    const settled: string[] = [];
    const a = committer.submit([put('a')]).then(() => settled.push('a'));
    await tick();
    const b = committer.submit([put('b1'), put('b2')]).then(() => settled.push('b'));
    const c = committer.submit([put('c')]).then(() => settled.push('c'));
    await tick();
    expect(target.writes.map((w) => w.operations.map((o) => o.key))).toEqual([['a']]);
    target.writes[0]!.finish();
    await a;
    await tick();
    expect(settled).toEqual(['a']);
    expect(target.writes[1]!.operations.map((o) => o.key)).toEqual(['b1', 'b2', 'c']);
    expect(target.writes[1]!.sync).toBe(true);
    target.writes[1]!.finish();
    await Promise.all([b, c]);
    expect(settled).toEqual(['a', 'b', 'c']);
  });

  it('stops after a failed write: that batch and every later submission reject with STORE_FAILED', async () => {
    const target = controlledTarget();
    const committer = new GroupCommitter(target, { sync: false, label: '/data/x' });
    const first = committer.submit([put('a')]);
    await tick();
    const queued = committer.submit([put('b')]);
    target.writes[0]!.finish(new Error('IO error: No space left on device'));
    await expect(first).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('No space left') });
    await expect(queued).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(committer.submit([put('c')])).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('/data/x') });
    expect(target.writes).toHaveLength(1);
    expect(committer.failed).toBeDefined();
  });

  it('drains: resolves once everything submitted has been written', async () => {
    const target = controlledTarget();
    const committer = new GroupCommitter(target, { sync: true, label: 'test' });
    const done = committer.submit([put('a')]);
    let drained = false;
    const draining = committer.drain().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    target.writes[0]!.finish();
    await Promise.all([done, draining]);
    expect(drained).toBe(true);
  });
});
