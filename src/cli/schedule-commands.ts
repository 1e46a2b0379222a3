import { Command, Option } from 'commander';
import type { ResolvedScheduleSpec, ScheduleDescription, ScheduleSummary, TriggerResult } from '../common/schedule-types.ts';
import { OVERLAP_POLICIES } from '../common/schedule-types.ts';
import { parseJsonArgument, usageError } from './cli-error.ts';
import { apiFrom, withConnectionOptions, type ConnectionOptions } from './connection-options.ts';
import { keyValues, printJson, table, time } from './format.ts';
import type { HttpApi } from './http.ts';

/**
 * `perdure schedule …`: create, list, describe, pause, resume, trigger, update and delete
 * schedules through the server's HTTP API.
 *
 * @example
 * perdure schedule create nightly --type report --cron '0 2 * * *' --timezone Europe/Paris
 * perdure schedule create heartbeat --type timer --every 5m --input '{"ms":1000}' --overlap allowAll
 * perdure schedule pause nightly --note 'database maintenance'
 * perdure schedule trigger nightly
 * perdure schedule describe nightly --json
 */
export function scheduleCommands(): Command {
  const group = new Command('schedule').description('start workflows on cron expressions or intervals: create, list, pause, trigger schedules');

  withDefinitionFlags(leaf(group, 'create <scheduleId>', 'create a schedule'))
    .option('--paused', 'create it paused')
    .option('--note <text>', 'why it is paused')
    .action(async (scheduleId: string, o: ConnectionOptions & DefinitionFlags & { paused?: boolean; note?: string }) => {
      const definition = definitionOf(o);
      if (!definition.spec) throw usageError('give the schedule\'s times: --cron <expression> (repeatable) and/or --every <duration>');
      if (!definition.action) throw usageError('give the workflow type to start: --type <workflowType>');
      const api = apiFrom(o);
      const { body } = await api.request<ScheduleDescription>('POST', schedulesPath(api), { body: { scheduleId, ...definition, paused: o.paused, note: o.note } });
      if (o.json) return printJson(body);
      console.log(`Created schedule ${body.scheduleId}${body.state.paused ? ' (paused)' : ''}: ${specText(body.spec)} → ${body.action.workflowType}.`);
      console.log(`  next: ${nextText(body)}`);
    });

  leaf(group, 'list', 'list the namespace\'s schedules')
    .option('--limit <n>', 'page size (default 100, at most 1000)')
    .option('--page-token <token>', 'continue a listing')
    .option('--all', 'follow every page')
    .action(async (o: ConnectionOptions & { limit?: string; pageToken?: string; all?: boolean }) => {
      const api = apiFrom(o);
      const schedules: ScheduleSummary[] = [];
      let pageToken = o.pageToken;
      let nextPageToken: string | undefined;
      do {
        const { body } = await api.request<{ schedules: ScheduleSummary[]; nextPageToken?: string | null }>('GET', schedulesPath(api), { query: { limit: o.limit, pageToken } });
        schedules.push(...body.schedules);
        nextPageToken = body.nextPageToken ?? undefined;
        pageToken = nextPageToken;
      } while (o.all && nextPageToken);
      if (o.json) return printJson({ schedules, nextPageToken: nextPageToken ?? null });
      if (schedules.length === 0) console.log('No schedules.');
      else {
        console.log(table(schedules.map((s) => ({
          scheduleId: s.scheduleId, workflowType: s.workflowType, spec: specText(s.spec), state: s.paused ? 'paused' : 'active',
          nextAction: s.paused ? '-' : time(s.nextActionAt), lastAction: time(s.lastAction?.actualTime), taken: s.counts.taken,
        })), ['scheduleId', 'workflowType', 'spec', 'state', 'nextAction', 'lastAction', 'taken']));
      }
      if (nextPageToken) console.log(`\nMore: perdure schedule list --page-token ${nextPageToken} (or --all)`);
    });

  leaf(group, 'describe <scheduleId>', 'show a schedule: spec, action, policies, state, recent actions, next times')
    .action(async (scheduleId: string, o: ConnectionOptions) => {
      const api = apiFrom(o);
      const { body } = await api.request<ScheduleDescription>('GET', schedulesPath(api, scheduleId));
      if (o.json) return printJson(body);
      console.log(describeBlock(body));
    });

  leaf(group, 'pause <scheduleId>', 'take no action until resumed')
    .option('--note <text>', 'why')
    .action(async (scheduleId: string, o: ConnectionOptions & { note?: string }) => {
      const api = apiFrom(o);
      const { body } = await api.request<ScheduleDescription>('POST', schedulesPath(api, scheduleId, 'pause'), { body: { note: o.note } });
      if (o.json) return printJson(body);
      console.log(`Paused schedule ${scheduleId}.`);
    });

  leaf(group, 'resume <scheduleId>', 'go on from the next time after now (times that passed while paused are not taken)')
    .alias('unpause')
    .option('--note <text>', 'why')
    .action(async (scheduleId: string, o: ConnectionOptions & { note?: string }) => {
      const api = apiFrom(o);
      const { body } = await api.request<ScheduleDescription>('POST', schedulesPath(api, scheduleId, 'unpause'), { body: { note: o.note } });
      if (o.json) return printJson(body);
      console.log(`Resumed schedule ${scheduleId}; next: ${nextText(body)}.`);
    });

  leaf(group, 'trigger <scheduleId>', 'take an action now (under the overlap policy unless --overlap is given)')
    .addOption(new Option('--overlap <policy>', 'overlap policy for this action (allowAll starts whatever is open)').choices(OVERLAP_POLICIES))
    .action(async (scheduleId: string, o: ConnectionOptions & { overlap?: string }) => {
      const api = apiFrom(o);
      const { body } = await api.request<TriggerResult>('POST', schedulesPath(api, scheduleId, 'trigger'), { body: { overlap: o.overlap } });
      if (o.json) return printJson(body);
      if (body.outcome === 'started') console.log(`Started ${body.workflowId} (run ${body.runId}).`);
      else if (body.outcome === 'buffered') console.log(`Buffered: it starts when the open workflow closes (nominal time ${time(body.nominalTime)}).`);
      else console.log(`Skipped: ${body.reason}.`);
    });

  withDefinitionFlags(leaf(group, 'update <scheduleId>', 'replace the spec (--cron/--every/--timezone), the action (--type/--input/--workflow-id-prefix) or the policies given'))
    .action(async (scheduleId: string, o: ConnectionOptions & DefinitionFlags) => {
      const definition = definitionOf(o);
      if (!definition.spec && !definition.action && !definition.policies) throw usageError('nothing to update: give a spec, action or policy flag (see --help)');
      const api = apiFrom(o);
      const { body } = await api.request<ScheduleDescription>('POST', schedulesPath(api, scheduleId, 'update'), { body: definition });
      if (o.json) return printJson(body);
      console.log(`Updated schedule ${scheduleId}: ${specText(body.spec)} → ${body.action.workflowType}; next: ${nextText(body)}.`);
    });

  leaf(group, 'delete <scheduleId>', 'delete a schedule (the workflows it started go on)')
    .action(async (scheduleId: string, o: ConnectionOptions) => {
      const api = apiFrom(o);
      const { body } = await api.request<{ deleted: boolean }>('DELETE', schedulesPath(api, scheduleId));
      if (o.json) return printJson(body);
      console.log(`Deleted schedule ${scheduleId}.`);
    });

  return group;
}

function leaf(group: Command, nameAndArgs: string, description: string): Command {
  return withConnectionOptions(group.command(nameAndArgs).description(description));
}

/** The flags that define a schedule, shared by create and update. */
interface DefinitionFlags {
  cron?: string[];
  every?: string;
  offset?: string;
  timezone?: string;
  type?: string;
  input?: string;
  workflowIdPrefix?: string;
  overlap?: string;
  catchupWindow?: string;
}

function withDefinitionFlags(command: Command): Command {
  return command
    .option('--cron <expression>', 'a cron expression, e.g. "0 9 * * MON-FRI" (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--every <duration>', 'an interval, e.g. 30s, 5m, 1h (at least 1s)')
    .option('--offset <duration>', 'the interval\'s offset from the epoch (less than --every)')
    .option('--timezone <tz>', 'IANA time zone of the cron expressions (default UTC)')
    .option('--type <workflowType>', 'the workflow type each action starts')
    .option('-i, --input <json>', 'input of each workflow, as JSON')
    .option('--workflow-id-prefix <prefix>', 'workflow ids are <prefix>-<time> (default: the schedule id)')
    .addOption(new Option('--overlap <policy>', 'when an earlier workflow is still open (default skip)').choices(OVERLAP_POLICIES))
    .option('--catchup-window <duration>', 'after downtime, take missed actions this recent (default 365d)');
}

/** The request body parts the flags give: each part only when one of its flags is there. */
function definitionOf(o: DefinitionFlags): { spec?: object; action?: object; policies?: object } {
  const definition: { spec?: object; action?: object; policies?: object } = {};
  if (o.cron || o.every || o.timezone || o.offset) {
    if (o.offset && !o.every) throw usageError('--offset needs --every');
    definition.spec = {
      cron: o.cron?.length === 1 ? o.cron[0] : o.cron, timezone: o.timezone,
      interval: o.every === undefined ? undefined : { every: duration(o.every), offset: o.offset === undefined ? undefined : duration(o.offset) },
    };
  }
  if (o.type || o.input !== undefined || o.workflowIdPrefix) {
    if (!o.type) throw usageError('--input and --workflow-id-prefix need --type (an update replaces the whole action)');
    definition.action = { workflowType: o.type, input: o.input === undefined ? undefined : parseJsonArgument('--input', o.input), workflowIdPrefix: o.workflowIdPrefix };
  }
  if (o.overlap || o.catchupWindow) definition.policies = { overlap: o.overlap, catchupWindow: o.catchupWindow === undefined ? undefined : duration(o.catchupWindow) };
  return definition;
}

/** A duration flag: `5m`, or a plain number of ms. */
function duration(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text;
}

function schedulesPath(api: HttpApi, scheduleId?: string, action?: string): string {
  let path = `/api/v1/namespaces/${encodeURIComponent(api.target.namespace)}/schedules`;
  if (scheduleId !== undefined) path += `/${encodeURIComponent(scheduleId)}`;
  if (action !== undefined) path += `/${action}`;
  return path;
}

/** `cron "0 9 * * *" (Europe/Paris), every 1h offset 15m` */
function specText(spec: ResolvedScheduleSpec): string {
  const parts = (spec.cron ?? []).map((c) => `cron "${c}"`);
  if (parts.length && spec.timezone !== 'UTC') parts[parts.length - 1] += ` (${spec.timezone})`;
  if (spec.interval) parts.push(`every ${spec.interval.every}${spec.interval.offset !== undefined ? ` offset ${spec.interval.offset}` : ''}`);
  return parts.join(', ');
}

function nextText(d: ScheduleDescription): string {
  if (d.state.paused) return 'none while paused';
  return d.state.nextActionAt === undefined ? 'none (the spec names no later time)' : time(d.state.nextActionAt);
}

function describeBlock(d: ScheduleDescription): string {
  const { state } = d;
  const head = keyValues([
    ['schedule id', d.scheduleId],
    ['spec', specText(d.spec)],
    ['action', `start ${d.action.workflowType} as ${d.action.workflowIdPrefix}-<time>`],
    ['input', d.action.input],
    ['overlap', d.policies.overlap],
    ['catch-up window', String(d.policies.catchupWindow)],
    ['state', state.paused ? `paused${state.note ? ` (${state.note})` : ''}` : 'active'],
    ['next action', nextText(d)],
    ['buffered', state.bufferedAt === undefined ? undefined : `${time(state.bufferedAt)} (waits for the open workflow to close)`],
    ['actions', `${state.counts.taken} taken, ${state.counts.skipped} skipped (overlap), ${state.counts.missed} missed (catch-up window), ${state.counts.failed} failed`],
    ['last failure', state.lastFailure ? `${time(state.lastFailure.at)} ${state.lastFailure.message}` : undefined],
    ['upcoming', state.paused ? undefined : d.futureActionTimes.map((t) => time(t)).join(', ') || undefined],
    ['created', time(d.createdAt)],
  ]);
  if (state.recentActions.length === 0) return `${head}\n\nNo actions yet.`;
  const rows = [...state.recentActions].reverse().map((a) => ({
    nominalTime: time(a.nominalTime), actualTime: time(a.actualTime), workflowId: a.workflowId, runId: a.runId, trigger: a.triggered ? 'manual' : 'spec',
  }));
  return `${head}\n\nRecent actions (newest first):\n${table(rows, ['nominalTime', 'actualTime', 'trigger', 'workflowId', 'runId'])}`;
}
