import { Command, Option } from 'commander';
import type { NamespaceInfo } from '../common/namespaces.ts';
import { usageError } from './cli-error.ts';
import { keyValues, printJson, table, time } from './format.ts';
import { DEFAULT_ADDRESS, HttpApi } from './http.ts';

/** The options of a namespace command: the server and the token (no --namespace: the name is an argument). */
interface ServerFlags {
  address: string;
  token?: string;
  json?: boolean;
}

/**
 * `perdure namespace …`: create, list, describe and update namespaces through the HTTP API.
 * With tokens, `create` needs an admin token for every namespace (`*`) and `update` an admin
 * token for the namespace.
 *
 * @example
 * perdure namespace create billing --description 'invoices and refunds' --retention 7d
 * perdure namespace list
 * perdure namespace update billing --retention 90d
 * perdure namespace describe billing --json
 */
export function namespaceCommands(): Command {
  const group = new Command('namespace').description('create, list, describe and update namespaces (and their retention)');

  leaf(group, 'create <name>', 'create a namespace (letters, digits, ".", "_", "-")')
    .option('-d, --description <text>', 'what the namespace is for')
    .option('-r, --retention <duration>', 'how long closed executions are kept, e.g. 72h, 30d (default 30d)')
    .action(async (name: string, o: ServerFlags & { description?: string; retention?: string }) => {
      const api = apiOf(o);
      const { body } = await api.request<NamespaceInfo>('POST', '/api/v1/namespaces', {
        body: { name, description: o.description, retention: retentionArgument(o.retention) },
      });
      if (o.json) return printJson(body);
      console.log(`Created namespace ${body.name} (retention ${formatRetention(body.retention)}).`);
      console.log(`  perdure workflow start <type> --namespace ${body.name}`);
    });

  leaf(group, 'list', 'list the namespaces')
    .action(async (o: ServerFlags) => {
      const { body } = await apiOf(o).request<{ namespaces: NamespaceInfo[] }>('GET', '/api/v1/namespaces');
      if (o.json) return printJson(body);
      console.log(table(body.namespaces.map((n) => ({
        name: n.name, retention: formatRetention(n.retention), description: n.description, createdAt: time(n.createdAt),
      })), ['name', 'retention', 'description', 'createdAt']));
    });

  leaf(group, 'describe <name>', 'show a namespace')
    .action(async (name: string, o: ServerFlags) => {
      const { body } = await apiOf(o).request<NamespaceInfo>('GET', path(name));
      if (o.json) return printJson(body);
      console.log(describeBlock(body));
    });

  leaf(group, 'update <name>', 'change a namespace\'s description or retention')
    .option('-d, --description <text>', 'the new description (\'\' removes it)')
    .option('-r, --retention <duration>', 'how long closed executions are kept from now on, e.g. 7d')
    .action(async (name: string, o: ServerFlags & { description?: string; retention?: string }) => {
      if (o.description === undefined && o.retention === undefined) throw usageError('give --description or --retention (or both)');
      const { body } = await apiOf(o).request<NamespaceInfo>('PATCH', path(name), {
        body: { description: o.description, retention: retentionArgument(o.retention) },
      });
      if (o.json) return printJson(body);
      console.log(`Updated namespace ${body.name}.`);
      console.log(describeBlock(body));
    });

  return group;
}

function leaf(group: Command, nameAndArgs: string, description: string): Command {
  return group.command(nameAndArgs).description(description)
    .addOption(new Option('--address <url>', 'the server\'s HTTP address').env('PERDURE_ADDRESS').default(DEFAULT_ADDRESS))
    .addOption(new Option('--token <token>', 'bearer token, when the server requires one').env('PERDURE_TOKEN'))
    .option('--json', 'print JSON (for scripts) instead of a table');
}

function apiOf(o: ServerFlags): HttpApi {
  return new HttpApi({ address: o.address, namespace: 'default', token: o.token });
}

function path(name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(name)}`;
}

/** `--retention 30d` as the API takes it: a Duration string, or a number of ms when all digits. */
function retentionArgument(value: string | undefined): string | number | undefined {
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function describeBlock(n: NamespaceInfo): string {
  return keyValues([
    ['name', n.name],
    ['description', n.description],
    ['retention', `${formatRetention(n.retention)} (closed executions are deleted this long after they close)`],
    ['created', time(n.createdAt)],
    ['updated', time(n.updatedAt)],
  ]);
}

const UNITS: readonly (readonly [string, number])[] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]];

/**
 * A retention in ms in the largest unit that divides it exactly, so it can be typed back to
 * `--retention` (a Duration has one unit): `30d`, `36h`, `90m`.
 *
 * @example formatRetention(2_592_000_000) // '30d'
 */
export function formatRetention(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) return String(ms);
  const [unit, size] = UNITS.find(([, size]) => ms % size === 0)!;
  return `${ms / size}${unit}`;
}
