/**
 * `0-3@2 5@7`: shards written compactly, runs of consecutive shards at one epoch as a range
 * (epochs left out when not given). For `perdure cluster status` and the server's log lines.
 */
export function shardRanges(shards: readonly { shard: number; epoch?: number }[]): string {
  const sorted = [...shards].sort((a, b) => a.shard - b.shard);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]!.shard === sorted[j]!.shard + 1 && sorted[j + 1]!.epoch === sorted[i]!.epoch) j++;
    const epoch = sorted[i]!.epoch === undefined ? '' : `@${sorted[i]!.epoch}`;
    parts.push(`${sorted[i]!.shard}${j > i ? `-${sorted[j]!.shard}` : ''}${epoch}`);
    i = j + 1;
  }
  return parts.join(' ');
}
