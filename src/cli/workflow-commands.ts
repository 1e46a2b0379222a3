import { Command, Option } from 'commander';
import type { ExecutionDetail, MigrateResult, QueryResult } from '../common/execution-types.ts';
import { statusWithState } from '../common/state-value.ts';
import { CONFLICT_POLICIES, ID_REUSE_POLICIES, type ConflictPolicy, type IdReusePolicy } from '../common/start-policies.ts';
import { CliError, EXIT, parseJsonArgument, usageError } from './cli-error.ts';
import { apiFrom, withConnectionOptions, type ConnectionOptions } from './connection-options.ts';
import { compact, keyValues, printJson, table, time } from './format.ts';
import { DEFAULT_ADDRESS } from './http.ts';
import { filterFlags, filterQuery, withListFilters, type ListFilterFlags } from './list-filters.ts';

/**
 * `perdure workflow …`: start, signal, update, query, cancel, terminate, describe, result,
 * history, list and count executions through the server's HTTP API.
 *
 * @example
 * perdure workflow start approval --id a-1 --input '{"request":"laptop","timeoutMs":60000}'
 * perdure workflow signal a-1 APPROVE --data '{"approver":"ana"}'
 * perdure workflow signal-with-start approval a-2 APPROVE --data '{"approver":"ana"}' --input '{"request":"desk"}'
 * perdure workflow result a-1 --json
 */
/** `--id-reuse-policy`: what a start does when the workflow id's latest run is closed. */
function idReusePolicyOption(): Option {
  return new Option('--id-reuse-policy <policy>', 'when the id\'s latest run is closed (default allow)').choices(ID_REUSE_POLICIES);
}

/** `--conflict-policy`: what a start does when the workflow id has an open run. */
function conflictPolicyOption(defaultText: string): Option {
  return new Option('--conflict-policy <policy>', `when the id has an open run (default ${defaultText})`).choices(CONFLICT_POLICIES);
}

export function workflowCommands(): Command {
  const group = new Command('workflow').description('start, signal, query and inspect workflow executions');

  leaf(group, 'start <type>', 'start an execution of a workflow type')
    .option('--id, --workflow-id <id>', 'workflow id (default: made by the server)')
    .option('-i, --input <json>', 'input of the machine, as JSON')
    .option('--idempotency-key <key>', 'a retried start with the same key returns the same run')
    .addOption(idReusePolicyOption())
    .addOption(conflictPolicyOption('fail'))
    .action(async (type: string, o: ConnectionOptions & StartFlags & { workflowId?: string; input?: string; idempotencyKey?: string }) => {
      const input = o.input === undefined ? undefined : parseJsonArgument('--input', o.input);
      const api = apiFrom(o);
      const { status, body } = await api.request<{ workflowId: string; runId: string }>('POST', api.workflows(), {
        body: { type, workflowId: o.workflowId, input, idempotencyKey: o.idempotencyKey, idReusePolicy: o.idReusePolicy, conflictPolicy: o.conflictPolicy },
      });
      if (o.json) return printJson(body);
      // 200: --conflict-policy useExisting found the id open and started nothing.
      console.log(`${status === 200 ? 'Already running:' : 'Started'} ${type} execution ${body.workflowId} (run ${body.runId}).`);
      console.log(`  perdure workflow describe ${body.workflowId}${hintFlags(o)}`);
    });

  leaf(group, 'signal <workflowId> <event>', 'send an event to an execution (returns once it is durable)')
    .option('-d, --data <json>', 'the event\'s other fields, as a JSON object')
    .addHelpText('after', '\n<event> is the event type (APPROVE), or a whole event as JSON (\'{"type":"APPROVE","approver":"ana"}\').')
    .action(async (workflowId: string, eventArg: string, o: ConnectionOptions & { data?: string }) => {
      const event = parseEvent(eventArg, o.data);
      const api = apiFrom(o);
      const { body } = await api.request<unknown>('POST', api.workflows(workflowId, 'signal'), { body: { event } });
      if (o.json) return printJson(body ?? { accepted: true });
      console.log(`Signalled ${event.type} to ${workflowId}.`);
    });

  leaf(group, 'signal-with-start <type> <workflowId> <event>', 'signal the open execution of a workflow id, or start one and signal it')
    .option('-d, --data <json>', 'the event\'s other fields, as a JSON object')
    .option('-i, --input <json>', 'input of the machine if it is started, as JSON')
    .option('--idempotency-key <key>', 'a retried call with the same key returns the run it started')
    .addOption(idReusePolicyOption())
    .addOption(conflictPolicyOption('useExisting: signal it'))
    .action(async (type: string, workflowId: string, eventArg: string, o: ConnectionOptions & StartFlags & { data?: string; input?: string; idempotencyKey?: string }) => {
      const event = parseEvent(eventArg, o.data);
      const input = o.input === undefined ? undefined : parseJsonArgument('--input', o.input);
      const api = apiFrom(o);
      const { body } = await api.request<{ workflowId: string; runId: string; started: boolean }>('POST', api.workflows(workflowId, 'signal-with-start'), {
        body: { type, event, input, idempotencyKey: o.idempotencyKey, idReusePolicy: o.idReusePolicy, conflictPolicy: o.conflictPolicy },
      });
      if (o.json) return printJson(body);
      console.log(body.started
        ? `Started ${type} execution ${body.workflowId} (run ${body.runId}) and signalled ${event.type}.`
        : `Signalled ${event.type} to ${body.workflowId} (run ${body.runId}).`);
    });

  leaf(group, 'update <workflowId> <event>', 'send an event and wait until the machine has processed it; prints the new state')
    .option('-d, --data <json>', 'the event\'s other fields, as a JSON object')
    .action(async (workflowId: string, eventArg: string, o: ConnectionOptions & { data?: string }) => {
      const event = parseEvent(eventArg, o.data);
      const api = apiFrom(o);
      const { body } = await api.request<QueryResult>('POST', api.workflows(workflowId, 'update'), { body: { event } });
      if (o.json) return printJson(body);
      console.log(`Update ${event.type} accepted by ${workflowId}.`);
      console.log(stateBlock(body));
    });

  leaf(group, 'query <workflowId>', 'read the current state: state value, context, tags, status, accepted events')
    .action(async (workflowId: string, o: ConnectionOptions) => {
      const api = apiFrom(o);
      const { body } = await api.request<QueryResult>('GET', api.workflows(workflowId, 'query'));
      if (o.json) return printJson(body);
      console.log(stateBlock(body));
    });

  leaf(group, 'describe <workflowId>', 'show an execution: type, version, status, times, output, pending work')
    .action(async (workflowId: string, o: ConnectionOptions) => {
      const api = apiFrom(o);
      const { body } = await api.request<ExecutionDetail>('GET', api.workflows(workflowId));
      if (o.json) return printJson(body);
      console.log(describeBlock(body));
    });

  leaf(group, 'result <workflowId>', 'wait for an execution to close and print its output (exit 1 unless it completed)')
    .option('--wait <duration>', 'how long to wait, e.g. 30s, 5m', '30s')
    .action(async (workflowId: string, o: ConnectionOptions & { wait: string }) => {
      const api = apiFrom(o);
      const { status, body } = await api.request<{ status: string; finalState?: unknown; output?: unknown; failure?: unknown }>('GET', api.workflows(workflowId, 'result'), {
        query: { wait: o.wait }, accept: [200, 202],
      });
      if (status === 202) {
        throw new CliError('TIMEOUT', `execution "${workflowId}" is still ${body?.status ?? 'running'} after ${o.wait}. Wait longer with --wait, or query it.`);
      }
      if (o.json) printJson(body);
      else console.log(keyValues([['status', statusWithState(body.status, body.finalState)], ['output', body.output], ['failure', body.failure]]));
      if (body.status !== 'completed') process.exitCode = EXIT.failure;
    });

  leaf(group, 'history <workflowId>', 'show an execution\'s event history')
    .action(async (workflowId: string, o: ConnectionOptions) => {
      const api = apiFrom(o);
      const { body } = await api.request<{ events: HistoryRow[] }>('GET', api.workflows(workflowId, 'history'));
      if (o.json) return printJson(body);
      console.log(table(body.events.map((e) => ({ seq: e.seq, time: time(e.at), kind: e.kind, details: eventDetails(e) })), ['seq', 'time', 'kind', 'details']));
    });

  withListFilters(leaf(group, 'list', 'list executions, newest first'))
    .option('--limit <n>', 'page size (default 100, at most 1000)')
    .option('--page-token <token>', 'continue a listing')
    .option('--all', 'follow every page')
    .action(async (o: ConnectionOptions & ListFilterFlags & { limit?: string; pageToken?: string; all?: boolean }) => {
      const api = apiFrom(o);
      const executions: Record<string, unknown>[] = [];
      let pageToken = o.pageToken;
      let nextPageToken: string | undefined;
      do {
        const { body } = await api.request<{ executions: Record<string, unknown>[]; nextPageToken?: string | null }>('GET', api.workflows(), {
          query: { ...filterQuery(o), limit: o.limit, pageToken },
        });
        executions.push(...body.executions);
        nextPageToken = body.nextPageToken ?? undefined;
        pageToken = nextPageToken;
      } while (o.all && nextPageToken);
      if (o.json) return printJson({ executions, nextPageToken: nextPageToken ?? null });
      if (executions.length === 0) console.log('No executions.');
      else {
        // The attributes column only when some execution has search attributes.
        const withAttributes = executions.some((e) => attributeText(e.searchAttributes) !== undefined);
        console.log(table(executions.map((e) => ({
          ...e, status: statusWithState(String(e.status), e.finalState), startedAt: time(e.startedAt), closedAt: time(e.closedAt), attributes: attributeText(e.searchAttributes),
        })),
          ['workflowId', 'type', 'status', 'startedAt', 'closedAt', 'runId', ...(withAttributes ? ['attributes'] : [])]));
      }
      if (nextPageToken) console.log(`\nMore: perdure workflow list --page-token ${nextPageToken}${filterFlags(o)}${o.limit ? ` --limit ${o.limit}` : ''}${hintFlags(o)} (or --all)`);
    });

  withListFilters(leaf(group, 'count', 'count executions matching the filters of list'))
    .action(async (o: ConnectionOptions & ListFilterFlags) => {
      const api = apiFrom(o);
      const path = `/api/v1/namespaces/${encodeURIComponent(api.target.namespace)}/workflow-count`;
      const { body } = await api.request<{ count: number; capped?: boolean }>('GET', path, { query: filterQuery(o) });
      if (o.json) return printJson(body);
      console.log(body.capped ? `at least ${body.count} (counting stopped at the server's cap)` : String(body.count));
    });

  leaf(group, 'cancel <workflowId>', 'request cancellation: the machine gets to react and compensate')
    .option('--reason <text>', 'why')
    .action(async (workflowId: string, o: ConnectionOptions & { reason?: string }) => {
      const api = apiFrom(o);
      const { body } = await api.request<unknown>('POST', api.workflows(workflowId, 'cancel'), { body: { reason: o.reason } });
      if (o.json) return printJson(body ?? { accepted: true });
      console.log(`Cancellation of ${workflowId} requested.`);
    });

  leaf(group, 'terminate <workflowId>', 'stop an execution at once: the machine runs no more steps')
    .option('--reason <text>', 'why')
    .action(async (workflowId: string, o: ConnectionOptions & { reason?: string }) => {
      const api = apiFrom(o);
      const { body } = await api.request<unknown>('POST', api.workflows(workflowId, 'terminate'), { body: { reason: o.reason } });
      if (o.json) return printJson(body ?? { accepted: true });
      console.log(`Terminated ${workflowId}.`);
    });

  leaf(group, 'reset <workflowId>', 'start a new run from the state after an event of its history (the open run is terminated)')
    .requiredOption('-e, --event <seq>', 'the history event to reset to (a signal, timer, activity result… — see `history`)', (v) => Number(v))
    .option('--reason <text>', 'why')
    .action(async (workflowId: string, o: ConnectionOptions & { event: number; reason?: string }) => {
      const api = apiFrom(o);
      const { body } = await api.request<{ runId: string }>('POST', api.workflows(workflowId, 'reset'), { body: { eventSeq: o.event, reason: o.reason } });
      if (o.json) return printJson(body);
      console.log(`Reset ${workflowId} to event #${o.event}: new run ${body?.runId}.`);
    });

  leaf(group, 'migrate <type>', 'move the open executions of a version to another with its migration function (workflow(machine, { migrations }))')
    .requiredOption('--from <version>', 'the version whose open executions move (`perdure machine list` shows the versions of each type)')
    .option('--to <version>', 'the target version (default: the newest registered)')
    .option('--workflow-id <id...>', 'only these executions')
    .action(async (type: string, o: ConnectionOptions & { from: string; to?: string; workflowId?: string[] }) => {
      const api = apiFrom(o);
      const { body } = await api.request<MigrateResult>('POST', api.workflowType(type, 'migrate'), {
        body: { fromVersion: o.from, toVersion: o.to, workflowIds: o.workflowId },
      });
      if (o.json) return printJson(body);
      console.log(`Migrated ${body!.migrated.length} execution(s) of ${type} from version ${o.from} to ${body!.toVersion}.`);
      for (const f of body!.failed) console.log(`  not migrated: ${f.workflowId} (${f.code}) ${f.message}`);
      if (body!.failed.length > 0) process.exitCode = EXIT.failure;
    });

  return group;
}

function leaf(group: Command, nameAndArgs: string, description: string): Command {
  return withConnectionOptions(group.command(nameAndArgs).description(description));
}

/** The start policies, as `start` and `signal-with-start` take them. */
interface StartFlags {
  idReusePolicy?: IdReusePolicy;
  conflictPolicy?: ConflictPolicy;
}

interface HistoryRow {
  seq: number;
  at: number;
  kind: string;
  [field: string]: unknown;
}

/** `APPROVE` + `--data '{"approver":"ana"}'`, or a whole event as JSON. */
function parseEvent(eventArg: string, data: string | undefined): { type: string; [field: string]: unknown } {
  let event: Record<string, unknown>;
  if (eventArg.trimStart().startsWith('{')) {
    const parsed = parseJsonArgument('<event>', eventArg);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError('<event> must be an event type or a JSON object');
    event = parsed as Record<string, unknown>;
  } else {
    event = { type: eventArg };
  }
  if (data !== undefined) {
    const fields = parseJsonArgument('--data', data);
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw usageError('--data must be a JSON object, e.g. --data \'{"approver":"ana"}\'');
    event = { ...(fields as Record<string, unknown>), ...event };
  }
  if (typeof event.type !== 'string' || event.type.length === 0) throw usageError('the event needs a "type" (a non-empty string)');
  return event as { type: string };
}

/** What `query` and `update` print: the state as `GET …/query` and `POST …/update` answer it. */
function stateBlock(state: QueryResult): string {
  return keyValues([
    ['status', state.status],
    ['state', state.value],
    ['tags', state.tags.length ? state.tags.join(', ') : undefined],
    ['accepts', state.accepts.filter((e) => !e.startsWith('xstate.')).join(', ') || '(no events)'],
    ['context', state.context === undefined ? undefined : JSON.stringify(state.context, null, 2).replace(/\n/g, '\n  ')],
  ]);
}

function describeBlock(d: ExecutionDetail): string {
  const lines = keyValues([
    ['workflow id', d.workflowId],
    ['run id', d.runId],
    ['type', `${d.type}@${d.version}`],
    // A run closed before finalState was recorded: its stored snapshot still says where it closed.
    ['status', d.blockedReason ? `${d.status} (${d.blockedReason})` : statusWithState(d.status, d.finalState ?? (d.closedAt === undefined ? undefined : d.state.value))],
    ['started', time(d.startedAt)],
    ['closed', d.closedAt === undefined ? undefined : time(d.closedAt)],
    ['state', d.state.value],
    ['search attributes', attributeText(d.searchAttributes)],
    ['output', d.output],
    ['failure', d.failure],
    ['activities', d.pendingActivities.length ? d.pendingActivities.map((a) => `${a.activityId} (${a.activityType}, attempt ${a.attempt})`).join(', ') : undefined],
    ['timers', d.pendingTimers.length ? d.pendingTimers.map((t) => `${t.timerId} at ${time(t.dueAt)}`).join(', ') : undefined],
    ['children', d.pendingChildren?.length ? d.pendingChildren.map((c) => `${c.childId}: ${c.workflowType} ${c.workflowId}${c.started ? '' : ' (starting)'}`).join(', ') : undefined],
    ['parent', d.parent ? `${d.parent.workflowId} (run ${d.parent.runId}, as ${d.parent.childId})` : undefined],
    ['continued from', d.continuedFrom],
    ['continued as', d.continuedAs],
    ['history', `${d.historyLength} events, ${d.historyBytes} bytes`],
  ]);
  return lines;
}

/** Search attributes as `name=value` pairs (undefined when there are none). */
function attributeText(attributes: unknown): string | undefined {
  if (typeof attributes !== 'object' || attributes === null) return undefined;
  const pairs = Object.entries(attributes).map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return pairs.length > 0 ? pairs.join(' ') : undefined;
}

/** One line about a history event beyond its kind. */
function eventDetails(e: HistoryRow): string {
  const pick = (...keys: string[]) => keys.filter((k) => e[k] !== undefined).map((k) => `${k}=${typeof e[k] === 'string' ? e[k] : compact(e[k], 60)}`).join(' ');
  switch (e.kind) {
    case 'WorkflowStarted': return pick('type', 'version', 'input');
    case 'SignalReceived': case 'UpdateAccepted': return compact(e.event, 80);
    case 'ActivityScheduled': return pick('activityId', 'activityType', 'input');
    case 'ActivityCompleted': return pick('activityId', 'output');
    case 'ActivityAttemptFailed': case 'ActivityFailed': return `${pick('activityId', 'attempt')} ${(e.failure as { message?: string } | undefined)?.message ?? ''}`.trim();
    case 'TimerStarted': return pick('timerId', 'delayMs');
    case 'TimerFired': case 'TimerCanceled': return pick('timerId');
    case 'WorkflowCompleted': return pick('output');
    case 'WorkflowFailed': return (e.failure as { message?: string } | undefined)?.message ?? '';
    default: {
      const { seq: _s, at: _a, kind: _k, ...rest } = e;
      return Object.keys(rest).length ? compact(rest, 80) : '';
    }
  }
}

/** `--address`/`--namespace` to repeat in a printed hint when they are not the defaults. */
function hintFlags(o: ConnectionOptions): string {
  let flags = '';
  if (o.address !== DEFAULT_ADDRESS && !process.env.PERDURE_ADDRESS) flags += ` --address ${o.address}`;
  if (o.namespace !== 'default' && !process.env.PERDURE_NAMESPACE) flags += ` --namespace ${o.namespace}`;
  return flags;
}
