import type { Logger } from 'pino';
import { shardRanges } from '../common/shard-ranges.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';

/**
 * Logs which shards this node holds: once now, then on every change (gained, lost), so an
 * operator reading one node's log sees its part of the cluster move. Silent on a store of one
 * shard (LevelDB), where the answer never changes. Answers the function that stops it.
 *
 * @example
 * shards gained: 22-24; holds 22 of 64: 0-21@2 (component "cluster")
 */
export function logShardChanges(ownership: ShardOwnership, logger: Logger): () => void {
  if (ownership.shardCount <= 1) return () => {};
  const log = logger.child({ component: 'cluster', nodeId: ownership.nodeId });
  const held = () => [...ownership.held()].map(([shard, epoch]) => ({ shard, epoch }));
  const summary = () => `holds ${ownership.held().size} of ${ownership.shardCount}: ${shardRanges(held()) || 'none'}`;
  log.info({ held: ownership.held().size, shardCount: ownership.shardCount }, `shards: ${summary()}`);
  return ownership.subscribe(({ gained, lost }) => {
    const parts = [
      ...(gained.length ? [`gained ${shardRanges(gained.map((shard) => ({ shard })))}`] : []),
      ...(lost.length ? [`lost ${shardRanges(lost.map((shard) => ({ shard })))}`] : []),
    ];
    log.info({ gained, lost, held: ownership.held().size }, `shards ${parts.join(', ')}; ${summary()}`);
  });
}
