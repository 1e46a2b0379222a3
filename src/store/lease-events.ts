/**
 * What a node's shard leases did, told as it happens: for the server's metrics (shards taken,
 * renewals, losses, hand-overs), so the hub counts them without knowing how a backend keeps its
 * leases. LevelDB has no leases and tells nothing.
 *
 * - `renewed`: a heartbeat renewed the leases of the shards held (`shards` of them, those still
 *   this node's); `renewalFailed`: it could not (the database did not answer), and the leases run
 *   on until they expire.
 * - `taken`: shards taken under a new epoch (free, or past their lease).
 * - `lost`: shards this node held and may no longer write to, by `reason`: `renewal` (a heartbeat
 *   found another node had taken them), `fence` (a commit's epoch check found them taken),
 *   `expired` (the lease ran out on the local clock while the database was unreachable).
 * - `handedOver`: shards given up on purpose, to even out the cluster.
 * - `released`: every shard given up on a clean close.
 */
export type LeaseEvent =
  | { kind: 'renewalFailed' }
  | { kind: 'renewed' | 'taken' | 'handedOver' | 'released'; shards: number }
  | { kind: 'lost'; shards: number; reason: LeaseLossReason };

export type LeaseLossReason = 'renewal' | 'fence' | 'expired';

/** Told of every lease event; an observer that throws is ignored (metrics never stop a heartbeat). */
export type LeaseObserver = (event: LeaseEvent) => void;
