import { Command, InvalidArgumentError as UsageArgumentError, Option } from 'commander';
import { InvalidArgumentError } from '../common/errors.ts';
import type { ActivityFunction } from '../worker/index.ts';
import { DEFAULT_ADDRESS } from './http.ts';

interface WorkerCommandOptions {
  activities: string;
  taskQueue: string[];
  address: string;
  namespace: string;
  token?: string;
  concurrency: number;
  identity?: string;
  quiet?: boolean;
  /** commander's `--no-follow-cluster`: true unless given. */
  followCluster: boolean;
}

/**
 * `perdure worker`: runs the activity functions a module exports for one or more task queues,
 * until SIGTERM or SIGINT (then it drains the tasks in flight and exits 0).
 *
 * @example
 * perdure worker --activities machines/activities.ts --task-queue orders --task-queue flaky
 */
export function workerCommand(): Command {
  return new Command('worker')
    .description('run activity functions from a module for task queues on a server')
    .requiredOption('-a, --activities <module>', 'module exporting activity functions by name (TypeScript loads as is)')
    .requiredOption('-q, --task-queue <queue...>', 'task queue(s) to take tasks from')
    .addOption(new Option('--address <url>', 'the server\'s address').env('PERDURE_ADDRESS').default(DEFAULT_ADDRESS))
    .addOption(new Option('-n, --namespace <ns>', 'namespace').env('PERDURE_NAMESPACE').default('default'))
    .addOption(new Option('--token <token>', 'bearer token, when the server requires one').env('PERDURE_TOKEN'))
    .option('-c, --concurrency <n>', 'activities run at once, per task queue', parsePositiveInt, 100)
    .option('--identity <name>', 'how the server names this worker (default: host and pid)')
    .option('--quiet', 'print nothing but errors (no connection or failed-attempt lines)')
    .option('--no-follow-cluster', 'on a cluster, keep the one connection to --address instead of one to every node (behind a load balancer)')
    .addHelpText('after', `
The module's exported functions are activities under their export names; an exported object whose
values are all functions contributes each of them (export const activities = { chargeCard, … }).

It prints when it connects (address, namespace, task queue, activities) on stdout, and a lost
connection and each failed attempt (activity, attempt, workflow, error type and message) on
stderr; --quiet prints none of it.`)
    .action(runWorker);
}

async function runWorker(o: WorkerCommandOptions): Promise<void> {
  const { Worker } = await import('../worker/index.ts');
  const activities = await loadActivities(o.activities);
  const queues = o.taskQueue.flatMap((q) => q.split(',')).map((q) => q.trim()).filter(Boolean);
  // The worker SDK says what each worker does (connected, reconnecting, failed attempts): one
  // line per event and task queue, the queue first.
  const workers = queues.map((taskQueue) => Worker.create({
    address: o.address, namespace: o.namespace, token: o.token, taskQueue, activities,
    maxConcurrentActivities: o.concurrency, identity: o.identity, quiet: o.quiet, followCluster: o.followCluster,
  }));
  const say = (line: string) => o.quiet || console.log(line);
  const running = Promise.all(workers.map((w) => w.run()));
  say(`Perdure worker: ${Object.keys(activities).length} activities (${Object.keys(activities).join(', ')}) ` +
    `on task queue${queues.length > 1 ? 's' : ''} ${queues.join(', ')} of ${o.address}, namespace ${o.namespace}, ${o.concurrency} at once.`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: draining the activities in flight…`);
    void Promise.all(workers.map((w) => w.shutdown()));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await running;
  say('Perdure worker stopped.');
}

/**
 * The activities of a module: every exported function under its export name, and the members
 * of every exported object whose values are all functions.
 */
export async function loadActivities(modulePath: string): Promise<Record<string, ActivityFunction>> {
  const { importModule } = await import('../server/load-workflows.ts');
  const exports = await importModule(modulePath, process.cwd(), 'activities');
  const activities: Record<string, ActivityFunction> = {};
  const add = (name: string, fn: ActivityFunction) => {
    if (activities[name] && activities[name] !== fn) throw new InvalidArgumentError(`the activities module "${modulePath}" exports two different activities named "${name}".`);
    activities[name] = fn;
  };
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value === 'function') {
      if (name !== 'default') add(name, value as ActivityFunction);
    } else if (isFunctionRecord(value)) {
      for (const [member, fn] of Object.entries(value)) add(member, fn);
    }
  }
  if (Object.keys(activities).length === 0) {
    throw new InvalidArgumentError(`the activities module "${modulePath}" exports no functions. Export each activity by the name the machine's activity(name, …) gives it.`);
  }
  return activities;
}

function isFunctionRecord(value: unknown): value is Record<string, ActivityFunction> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  // XState actor logic — such as an activity(...) declaration exported beside its
  // implementation — is a plain object of functions too (transition, start, …): not activities.
  if (isActorLogic(value)) return false;
  const values = Object.values(value);
  return values.length > 0 && values.every((v) => typeof v === 'function');
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageArgumentError('must be a positive integer.');
  return n;
}

function isActorLogic(value: object): boolean {
  const logic = value as { transition?: unknown; getInitialSnapshot?: unknown };
  return typeof logic.transition === 'function' && typeof logic.getInitialSnapshot === 'function';
}
