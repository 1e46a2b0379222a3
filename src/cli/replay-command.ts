import { Command } from 'commander';
import type { RunSummary } from '../common/execution-types.ts';
import type { HistoryEvent } from '../common/history.ts';
import type { WorkflowDefinition } from '../definition/workflow.ts';
import type { Divergence } from '../engine/core/replay.ts';
import { CliError, EXIT, usageError } from './cli-error.ts';
import { apiFrom, withConnectionOptions, type ConnectionOptions } from './connection-options.ts';
import { printJson, table } from './format.ts';
import { withWorkflowsOption, workflowModules } from './workflows-option.ts';
import type { HttpApi } from './http.ts';

interface ReplayOptions extends ConnectionOptions {
  workflows?: string[];
  type?: string;
  all?: boolean;
}

/** What one execution's replay found. */
interface ReplayReport {
  workflowId: string;
  type: string;
  status: string;
  recordedVersion: string;
  localVersion: string;
  events: number;
  ok: boolean;
  divergence?: Divergence;
}

/**
 * `perdure replay`: fetches histories from the server and replays them through the machines in a
 * local module, the way the engine would after a deploy of that module. Prints `ok`, or the first
 * divergence (event #, what the history has, what the machine does now) and exits 1.
 *
 * - `perdure replay order-42` checks one execution;
 * - `perdure replay --type order` (or `--all`) checks every running execution of the type (of
 *   every type the module exports): which running executions the new machine would break.
 *
 * @example
 * perdure replay --all --workflows dist/workflows.js   # in CI, before a deploy
 */
export function replayCommand(): Command {
  return withWorkflowsOption(withConnectionOptions(new Command('replay')), 'module(s) exporting the machines, as for `perdure server`')
    .description('replay execution histories against the local machines; report divergences (exit 1)')
    .argument('[workflowId]', 'the execution to replay (or --type / --all for every running execution)')
    .option('--type <type>', 'replay every running execution of this workflow type')
    .option('--all', 'replay every running execution of every type the module exports')
    .action(async (workflowId: string | undefined, o: ReplayOptions) => {
      if ((workflowId === undefined) === (o.type === undefined && !o.all)) {
        throw usageError('give a workflow id, or --type <type>, or --all (one of them)');
      }
      const { loadWorkflows } = await import('../server/load-workflows.ts');
      const modules = workflowModules(o.workflows, 'replay');
      const definitions = await loadWorkflows(modules);
      const api = apiFrom(o);
      const reports = workflowId !== undefined
        ? [await replayOne(api, definitions, workflowId, modules)]
        : await replayRunning(api, definitions, o.type === undefined ? [...new Set(definitions.map((d) => d.type))] : [o.type], modules);
      if (reports.some((r) => !r.ok)) process.exitCode = EXIT.failure;
      if (o.json) return printJson(workflowId !== undefined ? reports[0] : { executions: reports, diverged: reports.filter((r) => !r.ok).length });
      if (workflowId !== undefined) return printOne(reports[0]!, modules);
      printMany(reports);
    });
}

async function replayOne(api: HttpApi, definitions: readonly WorkflowDefinition[], workflowId: string, modules: string[]): Promise<ReplayReport> {
  const { body: described } = await api.request<{ type: string; version: string; status: string }>('GET', api.workflows(workflowId));
  const { body: history } = await api.request<{ events: HistoryEvent[] }>('GET', api.workflows(workflowId, 'history'));
  const ofType = definitions.filter((d) => d.type === described.type);
  if (ofType.length === 0) {
    throw new CliError('WORKFLOW_TYPE_NOT_FOUND', `${modules.join(', ')} exports no machine of type "${described.type}", the type of "${workflowId}".`);
  }
  const { replayHistory } = await import('../engine/core/replay.ts');
  // The module may register several versions of a type: replay against the one the execution
  // is on when present, else against the newest (the machine being deployed).
  const definition = ofType.find((d) => d.version === described.version) ?? ofType.at(-1)!;
  const result = replayHistory(definition, history.events);
  return {
    workflowId, type: described.type, status: described.status, recordedVersion: described.version, localVersion: definition.version,
    events: history.events.length, ok: result.ok, divergence: result.divergence,
  };
}

async function replayRunning(api: HttpApi, definitions: readonly WorkflowDefinition[], types: string[], modules: string[]): Promise<ReplayReport[]> {
  const reports: ReplayReport[] = [];
  for (const type of types) {
    let pageToken: string | undefined;
    do {
      const { body } = await api.request<{ executions: RunSummary[]; nextPageToken: string | null }>('GET', api.workflows(), {
        query: { type, status: 'running', limit: '1000', pageToken },
      });
      for (const run of body!.executions) reports.push(await replayOne(api, definitions, run.workflowId, modules));
      pageToken = body!.nextPageToken ?? undefined;
    } while (pageToken);
  }
  return reports;
}

function printOne(report: ReplayReport, modules: string[]): void {
  const { workflowId, type, recordedVersion, localVersion } = report;
  if (report.ok) {
    const versions = localVersion === recordedVersion ? `version ${localVersion}` : `recorded on ${recordedVersion}, replayed on ${localVersion}`;
    console.log(`ok: ${workflowId} (${type}, ${versions}) replays: ${report.events} events.`);
    return;
  }
  const d = report.divergence!;
  console.log(`diverged: ${workflowId} (${type}) at event #${d.seq}`);
  console.log(`  expected (history): ${d.expected}`);
  console.log(`  actual (machine):   ${d.actual}`);
  console.log(`The machine in ${modules.join(', ')} (version ${localVersion}) would not continue this execution the way it ran` +
    (localVersion === recordedVersion ? '.' : ` on version ${recordedVersion}: register that version beside the new one, migrate it, or keep the machine as it was.`));
}

function printMany(reports: ReplayReport[]): void {
  if (reports.length === 0) {
    console.log('No running executions of these types.');
    return;
  }
  console.log(table(reports.map((r) => ({
    workflowId: r.workflowId, type: r.type, version: r.recordedVersion, replay: r.ok ? 'ok' : `diverged at #${r.divergence!.seq}: ${r.divergence!.actual}`,
  }))));
  const diverged = reports.filter((r) => !r.ok).length;
  console.log(diverged === 0
    ? `All ${reports.length} running executions replay on the local machines.`
    : `${diverged} of ${reports.length} running executions would not continue the way they ran: keep their versions registered, migrate them, or change the machine back.`);
}
