import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { statelyCode, type StatelyExport } from '../definition/stately-export.ts';
import { CliError } from './cli-error.ts';
import { apiFrom, withConnectionOptions, type ConnectionOptions } from './connection-options.ts';
import { printJson, table } from './format.ts';
import type { HttpApi } from './http.ts';

/** A registered workflow type as `GET /api/v1/workflow-types` lists it. */
export interface WorkflowTypeInfo {
  type: string;
  versions: { version: string; definition: unknown; stately: StatelyExport }[];
}

/**
 * `perdure machine list|export`: the workflow types a server registered, and a type's machine
 * as `createMachine({...})` code that Stately Studio imports.
 *
 * @example
 * perdure machine export order > order.machine.ts
 */
export function machineCommands(): Command {
  const group = new Command('machine').description('the workflow types (machines) a server registered');

  withConnectionOptions(group.command('list').description('list workflow types and their versions'))
    .action(async (o: ConnectionOptions) => {
      const types = await workflowTypes(apiFrom(o));
      if (o.json) return printJson({ types: types.map((t) => ({ type: t.type, versions: t.versions.map((v) => v.version) })) });
      if (types.length === 0) return console.log('No workflow types registered.');
      console.log(table(types.map((t) => ({ type: t.type, versions: t.versions.map((v) => v.version).join(', ') })), ['type', 'versions']));
    });

  withConnectionOptions(group.command('export <type>').description('print a machine as code Stately Studio imports (Import → from code)'), { json: false })
    .option('--version <version>', 'which version (default: the newest registered)')
    .option('--format <format>', 'ts: a createMachine() snippet with its delays; json: the config createMachine(json) loads (its named delays go in createMachine(json, { delays }))', 'ts')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (type: string, o: ConnectionOptions & { version?: string; format: string; out?: string }) => {
      if (o.format !== 'ts' && o.format !== 'json') throw new CliError('USAGE', `--format must be ts or json, not "${o.format}"`, 2);
      const types = await workflowTypes(apiFrom(o));
      const found = types.find((t) => t.type === type);
      if (!found) {
        throw new CliError('WORKFLOW_TYPE_NOT_FOUND', `the server has no workflow type "${type}"; it has ${types.map((t) => t.type).join(', ') || 'none'}.`);
      }
      const version = o.version === undefined ? found.versions.at(-1) : found.versions.find((v) => v.version === o.version);
      if (!version) {
        throw new CliError('VERSION_MISSING', `workflow type "${type}" has no version "${o.version}"; registered: ${found.versions.map((v) => v.version).join(', ')}.`);
      }
      const exported = version.stately;
      const text = o.format === 'json'
        ? `${JSON.stringify(exported.config, null, 2)}\n`
        : `${exportHeader(type, version.version, exported)}${statelyCode(exported)}`;
      if (o.out) {
        await writeFile(o.out, text);
        console.error(`Wrote ${type}@${version.version} to ${o.out}.`);
      } else {
        process.stdout.write(text);
      }
      // XState reads delays from the implementations, never from a config: without them a named
      // delay fires at once. The ts format declares them; a JSON user is told, on stderr.
      if (o.format === 'json' && Object.keys(exported.delays).length) {
        console.error(`${type} names delays; pass them when you load the JSON: createMachine(json, { delays: ${JSON.stringify(exported.delays)} }).`);
      }
    });

  return group;
}

/** The comment above an exported machine: where it came from, and what the export leaves out. */
function exportHeader(type: string, version: string, exported: StatelyExport): string {
  return [
    `// Workflow type "${type}", version ${version}, exported by \`perdure machine export\`.`,
    '// Paste into Stately Studio (Import → from code). Inline functions (assign, guards, inputs)',
    '// do not survive the export; named actions, guards, delays and actors keep their names.',
    ...(exported.config.context === undefined ? [] : ['// The context is the one a run started without input begins with.']),
    ...(Object.keys(exported.delays).length ? ['// Delays are in milliseconds, their values for that context.'] : []),
    '',
  ].join('\n');
}

/** The server's workflow types (the route answers `{ types }`; a bare array is accepted too). */
export async function workflowTypes(api: HttpApi): Promise<WorkflowTypeInfo[]> {
  const { body } = await api.request<{ types: WorkflowTypeInfo[] } | WorkflowTypeInfo[]>('GET', '/api/v1/workflow-types');
  return Array.isArray(body) ? body : body.types;
}
