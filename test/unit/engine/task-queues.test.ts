import { describe, expect, it } from 'vitest';
import { TaskQueues } from '../../../src/engine/runtime/task-queues.ts';

describe('TaskQueues', () => {
  it('keeps each queue in arrival order and takes any attempt out by its key', () => {
    const queues = new TaskQueues<string>();
    queues.add('q1', 'a', 'A');
    queues.add('q2', 'x', 'X');
    queues.add('q1', 'b', 'B');
    queues.add('q1', 'c', 'C');
    expect(queues.take('b')).toBe('B');
    expect(queues.take('b')).toBeUndefined();
    expect([...queues.in('q1').keys()]).toEqual(['a', 'c']);
    expect(queues.sizes()).toEqual({ q1: 2, q2: 1 });
    expect([...queues.keys()].sort()).toEqual(['a', 'c', 'x']);
  });

  it('lets the one being visited be taken while a queue is walked', () => {
    const queues = new TaskQueues<number>();
    for (let i = 0; i < 5; i++) queues.add('q', `k${i}`, i);
    const seen: number[] = [];
    for (const [key, n] of queues.in('q')) {
      seen.push(n);
      if (n % 2 === 0) queues.take(key);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect([...queues.in('q').values()]).toEqual([1, 3]);
  });

  it('answers an empty queue for one never used, and empties all at once', () => {
    const queues = new TaskQueues<string>();
    expect(queues.in('none').size).toBe(0);
    queues.add('q', 'a', 'A');
    queues.add('r', 'b', 'B');
    expect(queues.clear().sort()).toEqual(['A', 'B']);
    expect(queues.sizes()).toEqual({});
    expect(queues.take('a')).toBeUndefined();
  });
});
