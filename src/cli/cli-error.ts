import type { ErrorCode } from '../common/error-codes.ts';

/** Exit codes of the `perdure` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * An error the CLI prints as `perdure: CODE: message` before exiting with `exitCode`. The
 * command's own codes (USAGE, SERVER_UNREACHABLE, ADDRESS_IN_USE, BAD_RESPONSE) are in the
 * central catalog, src/common/error-codes.ts (docs/error-codes.md), with every other code; the
 * server's codes, such as EXECUTION_NOT_FOUND or STORE_LOCKED, pass through unchanged.
 *
 * @example
 * throw new CliError('USAGE', '--input is not valid JSON: Unexpected token }', EXIT.usage);
 */
export class CliError extends Error {
  /**
   * @param code a catalogued code; a code from the server's answer is passed through as it came
   *   (a newer server may send one this CLI does not know).
   */
  constructor(readonly code: ErrorCode | (string & {}), message: string, readonly exitCode: number = EXIT.failure) {
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
