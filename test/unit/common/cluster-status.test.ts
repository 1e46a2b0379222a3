import { describe, expect, it } from 'vitest';
import { shardRanges } from '../../../src/common/cluster-status.ts';

describe('shardRanges', () => {
  const shards = [{ shard: 5, epoch: 7 }, { shard: 0, epoch: 2 }, { shard: 1, epoch: 2 }, { shard: 2, epoch: 3 }, { shard: 3, epoch: 3 }];

  it('writes runs of consecutive shards at one epoch as ranges (the CLI\'s and the hover\'s form)', () => {
    expect(shardRanges(shards)).toBe('0-1@2 2-3@3 5@7');
  });

  it('writes runs of consecutive shards whatever their epochs without them (the web UI\'s short form)', () => {
    expect(shardRanges(shards, { epochs: false })).toBe('0-3 5');
    expect(shardRanges([])).toBe('');
  });
});
