/**
 * Codes of errors the `perdure` command itself reports (the server's own codes, such as
 * EXECUTION_NOT_FOUND or STORE_LOCKED, pass through unchanged; see docs/error-codes.md).
 *
 * Code | Meaning | How to fix
 * --- | --- | ---
 * USAGE | The command line was not valid: an unknown option, a missing argument, bad JSON. | Read the message and `perdure <command> --help`.
 * SERVER_UNREACHABLE | No Perdure server answered at the address. | Start one (`perdure server`) or pass `--address`.
 * ADDRESS_IN_USE | The server's port is taken by another process. | Stop the other process or pass `--port` (0 picks a free one).
 * BAD_RESPONSE | The server answered with something that is not the Perdure HTTP API. | Check `--address` points at a Perdure server of the same version.
 */
export type CliErrorCode = 'USAGE' | 'SERVER_UNREACHABLE' | 'ADDRESS_IN_USE' | 'BAD_RESPONSE';

/** Exit codes of the `perdure` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * An error the CLI prints as `perdure: CODE: message` before exiting with `exitCode`.
 *
 * @example
 * throw new CliError('USAGE', '--input is not valid JSON: Unexpected token }', EXIT.usage);
 */
export class CliError extends Error {
  constructor(readonly code: string, message: string, readonly exitCode: number = EXIT.failure) {
    super(message.startsWith(`${code}: `) ? message : `${code}: ${message}`);
    this.name = 'CliError';
  }
}

/** A usage error: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError('USAGE', message, EXIT.usage);
}

/**
 * Parses a JSON command-line argument, naming the option in the error.
 *
 * @example
 * parseJsonArgument('--input', '{"amount":42}') // { amount: 42 }
 */
export function parseJsonArgument(option: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw usageError(`${option} is not valid JSON (${(error as Error).message}). Quote it for the shell, e.g. ${option} '{"amount":42}'.`);
  }
}
