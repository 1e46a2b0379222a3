import { describe, expect, it } from 'vitest';
import { shardRanges } from '../../../src/common/shard-ranges.ts';

describe('shardRanges', () => {
  it('writes runs of consecutive shards at one epoch as ranges, in shard order', () => {
    expect(shardRanges([{ shard: 3, epoch: 2 }, { shard: 0, epoch: 2 }, { shard: 1, epoch: 2 }, { shard: 2, epoch: 2 }, { shard: 5, epoch: 7 }])).toBe('0-3@2 5@7');
  });

  it('breaks a run where the epoch changes or a shard is missing', () => {
    expect(shardRanges([{ shard: 0, epoch: 1 }, { shard: 1, epoch: 2 }, { shard: 2, epoch: 2 }, { shard: 4, epoch: 2 }])).toBe('0@1 1-2@2 4@2');
  });

  it('leaves epochs out when none are given, and writes nothing for no shards', () => {
    expect(shardRanges([{ shard: 9 }, { shard: 8 }, { shard: 10 }, { shard: 20 }])).toBe('8-10 20');
    expect(shardRanges([])).toBe('');
  });
});
