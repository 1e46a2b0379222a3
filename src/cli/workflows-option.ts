import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { usageError } from './cli-error.ts';

/**
 * The module `--workflows` defaults to: the repository's example machines, so that `npm run dev`
 * and the commands run inside the repo need no flag. Outside the repo it does not exist.
 */
export const DEFAULT_WORKFLOWS = 'machines/index.ts';

/**
 * Adds `-w, --workflows <module...>` to `command`.
 *
 * @example
 * withWorkflowsOption(new Command('server'), 'module(s) whose workflow(...) exports are registered')
 */
export function withWorkflowsOption(command: Command, description: string): Command {
  return command.option('-w, --workflows <module...>', `${description} (default: ${DEFAULT_WORKFLOWS}, the repository's examples)`);
}

/**
 * The modules to load. Without `--workflows` the default is used when it exists; when it does
 * not (a user's own project), a usage error says to pass the flag, rather than "machines/index.ts
 * does not exist", which reads as if the user had asked for that file.
 */
export function workflowModules(given: string[] | undefined, commandName: string, cwd = process.cwd()): string[] {
  if (given !== undefined) return given;
  if (existsSync(resolve(cwd, DEFAULT_WORKFLOWS))) return [DEFAULT_WORKFLOWS];
  throw usageError(`no workflows module: pass --workflows <module>, the module that exports your workflow(machine) definitions ` +
    `(e.g. \`perdure ${commandName} --workflows src/workflows.ts\`). The default, ${DEFAULT_WORKFLOWS}, is not in ${cwd}.`);
}
