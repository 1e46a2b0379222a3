import { Command } from 'commander';
import type { HistoryEvent } from '../common/history.ts';
import { CliError } from './cli-error.ts';
import { apiFrom, withConnectionOptions, type ConnectionOptions } from './connection-options.ts';
import { printJson } from './format.ts';

/**
 * `perdure replay <workflowId>`: fetches an execution's history from the server and replays it
 * through the machine in a local module, the way the engine would after a deploy of that
 * module. Prints `ok`, or the first divergence (event #, what the history has, what the machine
 * does now) and exits 1.
 *
 * @example
 * perdure replay order-42 --workflows machines/index.ts
 */
export function replayCommand(): Command {
  return withConnectionOptions(new Command('replay'))
    .description('replay an execution\'s history against the local machine; report the first divergence (exit 1)')
    .argument('<workflowId>', 'the execution to replay')
    .option('-w, --workflows <module...>', 'module(s) exporting the machines, as for `perdure server`', ['machines/index.ts'])
    .action(async (workflowId: string, o: ConnectionOptions & { workflows: string[] }) => {
      const [{ replayHistory }, { loadWorkflows }] = await Promise.all([import('../engine/replay.ts'), import('../server/load-workflows.ts')]);
      const api = apiFrom(o);
      const { body: described } = await api.request<{ type: string; version: string; status: string }>('GET', api.workflows(workflowId));
      const { body: history } = await api.request<{ events: HistoryEvent[] }>('GET', api.workflows(workflowId, 'history'));
      const definitions = (await loadWorkflows(o.workflows)).filter((d) => d.type === described.type);
      if (definitions.length === 0) {
        throw new CliError('WORKFLOW_TYPE_NOT_FOUND', `${o.workflows.join(', ')} exports no machine of type "${described.type}", the type of "${workflowId}".`);
      }
      // The module may register several versions of a type: replay against the one the
      // execution started on when present, else against the newest (the machine being deployed).
      const definition = definitions.find((d) => d.version === described.version) ?? definitions.at(-1)!;
      const result = replayHistory(definition, history.events);
      const report = {
        workflowId, type: described.type, status: described.status,
        recordedVersion: described.version, localVersion: definition.version,
        events: history.events.length, ok: result.ok, divergence: result.divergence,
      };
      if (o.json) printJson(report);
      else if (result.ok) {
        const versions = definition.version === described.version ? `version ${definition.version}` : `recorded on ${described.version}, replayed on ${definition.version}`;
        console.log(`ok: ${workflowId} (${described.type}, ${versions}) replays: ${history.events.length} events, ${result.eventsReplayed} delivered to the machine.`);
      } else {
        const d = result.divergence!;
        console.log(`diverged: ${workflowId} (${described.type}) at event #${d.seq}`);
        console.log(`  expected (history): ${d.expected}`);
        console.log(`  actual (machine):   ${d.actual}`);
        console.log(`The machine in ${o.workflows.join(', ')} (version ${definition.version}) would not continue this execution the way it ran` +
          (definition.version === described.version ? '.' : ` on version ${described.version}: register that version beside the new one, or keep the machine as it was.`));
      }
      if (!result.ok) process.exitCode = 1;
    });
}
