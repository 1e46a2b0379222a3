import { describe, expect, it } from 'vitest';
import { PerdureError, ShardNotHeldError } from '../../../src/common/errors.ts';
import type { ClientOp } from '../../../src/common/wire.ts';
import { ClusterSchedules } from '../../../src/cluster/cluster-schedules.ts';
import type { PeerCaller } from '../../../src/cluster/node-peers.ts';
import type { ScheduleService } from '../../../src/schedules/schedule-service.ts';
import type { ClusterNode, ShardOwnership } from '../../../src/store/shard-ownership.ts';

const OWNER: ClusterNode = { nodeId: 'other', address: '127.0.0.1:7001', heartbeatAt: 0, shards: [{ shard: 3, epoch: 2 }] };

/** Every schedule in shard 3, held by the other node. */
const ownership: ShardOwnership = {
  shardCount: 8, nodeId: 'me',
  shardOf: () => 3,
  held: () => new Map(),
  holds: () => false,
  subscribe: () => () => {},
  nodes: async () => [OWNER],
  ownerOf: async () => OWNER,
};

class RecordingPeers implements PeerCaller {
  readonly calls: { address: string; namespace: string; op: ClientOp; args: Record<string, unknown> }[] = [];
  async call(address: string, namespace: string, op: ClientOp, args: Record<string, unknown>): Promise<unknown> {
    this.calls.push({ address, namespace, op, args });
    return { answeredBy: address };
  }
}

/** A local service whose every schedule operation fails with `error`. */
function localFailingWith(error: Error): ScheduleService {
  const fail = async () => {
    throw error;
  };
  return { create: fail, describe: fail, update: fail, pause: fail, unpause: fail, trigger: fail, delete: fail, list: async () => ({ schedules: [] }) } as unknown as ScheduleService;
}

describe('ClusterSchedules', () => {
  it('forwards an operation the local service refuses with SHARD_NOT_HELD to the shard\'s owner, in its namespace, without absent fields', async () => {
    const peers = new RecordingPeers();
    const schedules = new ClusterSchedules(localFailingWith(new ShardNotHeldError(3)), ownership, peers);
    expect(await schedules.pause({ namespace: 'billing', scheduleId: 'nightly' })).toEqual({ answeredBy: OWNER.address });
    await schedules.describe({ scheduleId: 'nightly' });
    expect(peers.calls).toEqual([
      { address: OWNER.address, namespace: 'billing', op: 'pauseSchedule', args: { scheduleId: 'nightly' } },
      { address: OWNER.address, namespace: 'default', op: 'describeSchedule', args: { scheduleId: 'nightly' } },
    ]);
  });

  it('asks the owner when the local write was fenced during a hand-over (nothing was written), but relays it for a trigger', async () => {
    const fenced = new PerdureError('SHARD_OWNERSHIP_LOST', 'shard 3 is no longer held by this server');
    const peers = new RecordingPeers();
    const schedules = new ClusterSchedules(localFailingWith(fenced), ownership, peers);
    await schedules.unpause({ scheduleId: 'nightly' }, 'back');
    expect(peers.calls.map((c) => [c.op, c.args])).toEqual([['unpauseSchedule', { scheduleId: 'nightly', note: 'back' }]]);
    // A trigger may have started its workflow before its write was fenced: a retry would take a second action.
    await expect(schedules.trigger({ scheduleId: 'nightly' })).rejects.toBe(fenced);
    expect(peers.calls).toHaveLength(1);
  });

  it('relays any other error of the local service as it came, and lists locally', async () => {
    const missing = new PerdureError('SCHEDULE_NOT_FOUND', 'no schedule "nightly"');
    const peers = new RecordingPeers();
    const schedules = new ClusterSchedules(localFailingWith(missing), ownership, peers);
    await expect(schedules.delete({ scheduleId: 'nightly' })).rejects.toBe(missing);
    expect(await schedules.list()).toEqual({ schedules: [] });
    expect(peers.calls).toEqual([]);
  });
});
