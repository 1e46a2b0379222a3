import { Option, type Command } from 'commander';
import { DEFAULT_ADDRESS, HttpApi } from './http.ts';

/** Options every command that talks to a server takes. */
export interface ConnectionOptions {
  address: string;
  namespace: string;
  token?: string;
  json?: boolean;
}

/**
 * Adds `--address`, `--namespace`, `--token` (and `--json` unless `json: false`) to a command.
 * Defaults come from PERDURE_ADDRESS, PERDURE_NAMESPACE and PERDURE_TOKEN.
 */
export function withConnectionOptions(command: Command, options: { json?: boolean } = {}): Command {
  command
    .addOption(new Option('--address <url>', 'the server\'s HTTP address').env('PERDURE_ADDRESS').default(DEFAULT_ADDRESS))
    .addOption(new Option('-n, --namespace <ns>', 'namespace').env('PERDURE_NAMESPACE').default('default'))
    .addOption(new Option('--token <token>', 'bearer token, when the server requires one').env('PERDURE_TOKEN'));
  if (options.json !== false) command.option('--json', 'print JSON (for scripts) instead of a table');
  return command;
}

/** The HTTP API client for a command's connection options. */
export function apiFrom(options: ConnectionOptions): HttpApi {
  return new HttpApi({ address: options.address, namespace: options.namespace, token: options.token });
}
