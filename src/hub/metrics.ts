import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HistoryEvent } from '../common/history.ts';
import type { EngineObserver } from '../engine/api.ts';
import type { LeaseObserver } from '../store/lease-events.ts';
import type { ShardOwnership } from '../store/shard-ownership.ts';
import type { BatchObserver } from '../store/store.ts';

/**
 * The server's Prometheus metrics (`GET /metrics`). One registry per server, so servers in one
 * process (tests) do not share counters.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly executions = new Counter({
    name: 'perdure_executions_total', help: 'Executions by how they changed: started, completed, failed, canceled, terminated.',
    labelNames: ['event', 'namespace', 'type'], registers: [this.registry],
  });
  private readonly events = new Counter({ name: 'perdure_history_events_appended_total', help: 'History events appended.', registers: [this.registry] });
  private readonly tasks = new Counter({ name: 'perdure_activity_tasks_scheduled_total', help: 'Activity tasks scheduled (first attempts and retries).', registers: [this.registry] });
  private readonly batchCommits = new Histogram({
    name: 'perdure_commit_batch_size', help: 'Engine steps written per durable store batch (group commit).',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers: [this.registry],
  });
  private readonly batchOperations = new Histogram({
    name: 'perdure_commit_batch_operations', help: 'Rows (PostgreSQL) or keys (LevelDB) written per durable store batch.',
    buckets: [1, 5, 10, 50, 100, 500, 1000, 5000, 10000], registers: [this.registry],
  });
  private readonly batchSeconds = new Histogram({
    name: 'perdure_commit_batch_seconds', help: 'Time to write one durable store batch.',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1], registers: [this.registry],
  });
  readonly workersConnected = new Gauge({ name: 'perdure_workers_connected', help: 'Worker connections open.', registers: [this.registry] });
  readonly clientsConnected = new Gauge({ name: 'perdure_clients_connected', help: 'Client connections open.', registers: [this.registry] });
  readonly protocolErrors = new Counter({ name: 'perdure_protocol_errors_total', help: 'Frames refused, by error code.', labelNames: ['code'], registers: [this.registry] });

  // The cluster (docs/cluster.md). On LevelDB: one shard owned, and no lease or forwarding figures.
  private ownership: ShardOwnership | undefined;
  private readonly shardsOwned = new Gauge({
    name: 'perdure_shards_owned', help: 'Shards this node holds now.', registers: [this.registry],
    collect: () => void (this.ownership && this.shardsOwned.set(this.ownership.held().size)),
  });
  private readonly shardsTotal = new Gauge({
    name: 'perdure_shards_total', help: 'Shards of the store, held by any node (fixed when the store was created).', registers: [this.registry],
    collect: () => void (this.ownership && this.shardsTotal.set(this.ownership.shardCount)),
  });
  private readonly leaseRenewals = new Counter({ name: 'perdure_shard_lease_renewals_total', help: 'Heartbeats that renewed this node\'s shard leases.', registers: [this.registry] });
  private readonly leaseRenewalFailures = new Counter({
    name: 'perdure_shard_lease_renewal_failures_total', help: 'Heartbeats that could not renew the leases (database unreachable): the leases run on until they expire.', registers: [this.registry],
  });
  private readonly leaseTakes = new Counter({ name: 'perdure_shard_lease_takes_total', help: 'Shards this node took under a new epoch.', registers: [this.registry] });
  private readonly leaseLosses = new Counter({
    name: 'perdure_shard_lease_losses_total', help: 'Shards this node lost, by reason: renewal (another node took it), fence (a commit found it taken), expired (lease ran out unrenewed).',
    labelNames: ['reason'], registers: [this.registry],
  });
  private readonly leaseHandOvers = new Counter({ name: 'perdure_shard_lease_handovers_total', help: 'Shards this node gave up to even out the cluster.', registers: [this.registry] });
  private readonly forwardedCalls = new Counter({
    name: 'perdure_forwarded_requests_total', help: 'Calls forwarded to the node that holds the execution\'s shard, by operation and outcome (ok, error, unreachable).',
    labelNames: ['op', 'outcome'], registers: [this.registry],
  });
  private readonly forwardedSeconds = new Histogram({
    name: 'perdure_forwarded_request_seconds', help: 'Time of a call forwarded to another node, answer included.',
    labelNames: ['op'], buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'perdure_process_' });
  }

  readonly engineObserver: EngineObserver = {
    committed: (events: readonly HistoryEvent[], run) => {
      this.events.inc(events.length);
      for (const e of events) {
        const event = EXECUTION_EVENTS[e.kind];
        if (event) this.executions.inc({ event, namespace: run.namespace, type: run.type });
        if (e.kind === 'ActivityScheduled' || e.kind === 'ActivityAttemptFailed') this.tasks.inc();
      }
    },
  };

  readonly storeBatch: BatchObserver = ({ commits, operations, ms }) => {
    this.batchCommits.observe(commits);
    this.batchOperations.observe(operations);
    this.batchSeconds.observe(ms / 1000);
  };

  /** Reads the shards held (and their count) from `ownership` at every scrape. */
  watchShards(ownership: ShardOwnership): void {
    this.ownership = ownership;
  }

  readonly leaseEvent: LeaseObserver = (event) => {
    switch (event.kind) {
      case 'renewed': return this.leaseRenewals.inc();
      case 'renewalFailed': return this.leaseRenewalFailures.inc();
      case 'taken': return this.leaseTakes.inc(event.shards);
      case 'lost': return this.leaseLosses.inc({ reason: event.reason }, event.shards);
      case 'handedOver': return this.leaseHandOvers.inc(event.shards);
      case 'released': return; // a clean close: the process, and its metrics, end
    }
  };

  /** Told of each call forwarded to another node (the cluster's observed peers). */
  readonly forwarded = ({ op, outcome, ms }: { op: string; outcome: string; ms: number }): void => {
    this.forwardedCalls.inc({ op, outcome });
    this.forwardedSeconds.observe({ op }, ms / 1000);
  };
}

const EXECUTION_EVENTS: Partial<Record<HistoryEvent['kind'], string>> = {
  WorkflowStarted: 'started', WorkflowCompleted: 'completed', WorkflowFailed: 'failed',
  WorkflowCanceled: 'canceled', WorkflowTerminated: 'terminated', WorkflowContinuedAsNew: 'continuedAsNew',
};
