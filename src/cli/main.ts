/**
 * The `perdure` command.
 *
 * ```sh
 * perdure server --workflows machines/index.ts          # engine + hub + HTTP API on :7233
 * perdure worker --activities machines/activities.ts --task-queue orders
 * perdure workflow start approval --id a-1 --input '{"request":"laptop","timeoutMs":60000}'
 * perdure workflow signal a-1 APPROVE --data '{"approver":"ana"}'
 * perdure workflow list
 * perdure namespace create billing --retention 7d
 * perdure schedule create nightly --type report --cron '0 2 * * *'
 * perdure machine export approval > approval.machine.ts
 * perdure replay a-1 --workflows machines/index.ts
 * ```
 *
 * Exit codes: 0 ok, 1 failure (the message starts with an error code), 2 usage.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { PerdureError } from '../common/errors.ts';
import { CliError, EXIT } from './cli-error.ts';
import { machineCommands } from './machine-commands.ts';
import { namespaceCommands } from './namespace-commands.ts';
import { clusterCommands } from './cluster-commands.ts';
import { replayCommand } from './replay-command.ts';
import { scheduleCommands } from './schedule-commands.ts';
import { serverCommand } from './server-command.ts';
import { workerCommand } from './worker-command.ts';
import { workflowCommands } from './workflow-commands.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The command tree; `exitOverride` everywhere, so errors come back to `run` as exceptions. */
function buildProgram(): Command {
  const program = new Command('perdure')
    .description('Durable workflows as XState machines: run the server, workers, and manage executions.')
    .version(VERSION, '-V, --version')
    // Options belong to the command they follow: `machine export x --version v` is export's.
    .enablePositionalOptions()
    .addCommand(serverCommand())
    .addCommand(workerCommand())
    .addCommand(workflowCommands())
    .addCommand(namespaceCommands())
    .addCommand(scheduleCommands())
    .addCommand(clusterCommands())
    .addCommand(machineCommands())
    .addCommand(replayCommand());
  const configure = (command: Command) => {
    command.exitOverride().showHelpAfterError('(add --help for usage)').configureOutput({
      outputError: (text, write) => write(`perdure: USAGE: ${text.replace(/^error: /, '')}`),
    });
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs the command line; resolves with the exit code. */
async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version asked for are a success; everything else commander reports (unknown
      // option, missing argument, bad choice, a group without its subcommand) is usage.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      console.error(`perdure: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof PerdureError) {
      console.error(`perdure: ${error.message}`);
      return EXIT.failure;
    }
    console.error(`perdure: INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT.failure;
  }
}

process.exit(await run(process.argv.slice(2)));
