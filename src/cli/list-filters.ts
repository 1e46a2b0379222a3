import { Option, type Command } from 'commander';
import { toMs } from '../common/duration.ts';
import { EXECUTION_STATUSES } from '../common/history.ts';
import type { Duration } from '../common/activity-options.ts';
import { usageError } from './cli-error.ts';

/** The visibility filters of `perdure workflow list` and `perdure workflow count`. */
export interface ListFilterFlags {
  status?: string;
  type?: string;
  startedAfter?: string;
  startedBefore?: string;
  closedAfter?: string;
  closedBefore?: string;
  prefix?: string;
  /** Search-attribute expressions (`customerId=c-1`, `amount>=10`), sent as they are. */
  attr?: string[];
}

const TIME_HELP = 'an ISO time (2026-01-02T03:04:05Z), ms since epoch, or an age like 2h or 7d';

/**
 * Adds the filter flags to a command.
 *
 * @example
 * perdure workflow list --type order --started-after 24h --prefix cust-42/
 * perdure workflow count --status failed --closed-after 2026-01-01
 * perdure workflow list --attr customerId=c-1 --attr 'amount>=10' --attr 'amount<100'
 */
export function withListFilters(command: Command): Command {
  return command
    .addOption(new Option('--status <status>', 'only executions with this status').choices(EXECUTION_STATUSES))
    .option('--type <type>', 'only executions of this workflow type')
    .option('--started-after <time>', `started at or after: ${TIME_HELP}`)
    .option('--started-before <time>', 'started before this time (the same forms)')
    .option('--closed-after <time>', 'closed at or after this time (the same forms; open executions never match)')
    .option('--closed-before <time>', 'closed before this time (the same forms)')
    .option('--prefix <workflowIdPrefix>', 'only workflow ids starting with this')
    .option('--attr <expression>', 'a search attribute filter, repeatable: name=value, or name>=, >, <=, < value for a number or datetime',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}

/**
 * The flags as the HTTP API's query string. An age (`2h`) is made a time here, against this
 * machine's clock; ISO times and ms go to the server as typed. A value that is none of these
 * (`yesterday`) is a usage error here (exit 2), naming every form, rather than the server's
 * INVALID_ARGUMENT (exit 1), which knows nothing of ages.
 *
 * @throws CliError USAGE naming the flag and the forms it takes.
 */
export function filterQuery(o: ListFilterFlags, now = Date.now()): Record<string, string | string[] | undefined> {
  const at = (value: string | undefined, flag: string): string | undefined => {
    if (value === undefined) return value;
    if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(value)) return new Date(now - toMs(value as Duration, flag)).toISOString();
    // Date.parse reads more than ISO 8601 (e.g. "Jan 2 2026"); the server reads the same way.
    if (/^\d+$/.test(value) || Number.isFinite(Date.parse(value))) return value;
    throw usageError(`${flag}: expected ${TIME_HELP}, got ${JSON.stringify(value)}.`);
  };
  return {
    status: o.status, type: o.type, workflowIdPrefix: o.prefix,
    startedAfter: at(o.startedAfter, '--started-after'), startedBefore: at(o.startedBefore, '--started-before'),
    closedAfter: at(o.closedAfter, '--closed-after'), closedBefore: at(o.closedBefore, '--closed-before'),
    attr: o.attr,
  };
}

/** The filter flags again, for a "More: … --page-token" hint (a token continues the same query). */
export function filterFlags(o: ListFilterFlags): string {
  const flags: Array<[string, string | undefined]> = [
    ['--status', o.status], ['--type', o.type], ['--started-after', o.startedAfter], ['--started-before', o.startedBefore],
    ['--closed-after', o.closedAfter], ['--closed-before', o.closedBefore], ['--prefix', o.prefix],
    ...(o.attr ?? []).map((a): [string, string] => ['--attr', a]),
  ];
  return flags.filter(([, v]) => v !== undefined).map(([flag, v]) => ` ${flag} ${quote(v!)}`).join('');
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
