import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HistoryEvent } from '../common/history.ts';
import type { EngineObserver } from '../engine/api.ts';
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
  private readonly batchSeconds = new Histogram({
    name: 'perdure_commit_batch_seconds', help: 'Time to write one durable store batch.',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1], registers: [this.registry],
  });
  readonly workersConnected = new Gauge({ name: 'perdure_workers_connected', help: 'Worker connections open.', registers: [this.registry] });
  readonly clientsConnected = new Gauge({ name: 'perdure_clients_connected', help: 'Client connections open.', registers: [this.registry] });
  readonly protocolErrors = new Counter({ name: 'perdure_protocol_errors_total', help: 'Frames refused, by error code.', labelNames: ['code'], registers: [this.registry] });

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

  readonly storeBatch: BatchObserver = ({ commits, ms }) => {
    this.batchCommits.observe(commits);
    this.batchSeconds.observe(ms / 1000);
  };
}

const EXECUTION_EVENTS: Partial<Record<HistoryEvent['kind'], string>> = {
  WorkflowStarted: 'started', WorkflowCompleted: 'completed', WorkflowFailed: 'failed',
  WorkflowCanceled: 'canceled', WorkflowTerminated: 'terminated', WorkflowContinuedAsNew: 'continuedAsNew',
};
