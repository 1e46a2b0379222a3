import type { Duration } from '../common/activity-options.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import type { NamespaceInfo } from '../common/namespaces.ts';
import type { ClientTransport } from './codec-transport.ts';

/** What a namespace is created or updated with. */
export interface NamespaceOptions {
  description?: string;
  /**
   * How long closed executions are kept before the server deletes them: a Duration such as
   * '7d', '72h', or ms. Default on create: 30 days.
   */
  retention?: Duration;
}

/**
 * The namespaces of the server, as `client.namespaces`. When the server has tokens, `create`
 * needs an admin token for every namespace (`*`) and `update` an admin token for the namespace.
 *
 * @example
 * const client = await Client.connect({ address: '127.0.0.1:7233', token: adminToken });
 * await client.namespaces.create('billing', { description: 'invoices', retention: '7d' });
 * const billing = await Client.connect({ address: '127.0.0.1:7233', namespace: 'billing', token });
 */
export class NamespaceClient {
  /** @internal made by `Client`. */
  constructor(private readonly transport: ClientTransport) {}

  /** Creates a namespace; NamespaceAlreadyExistsError (NAMESPACE_ALREADY_EXISTS) if the name is taken. */
  async create(name: string, options: NamespaceOptions = {}): Promise<NamespaceInfo> {
    const { description, retention } = checked(options);
    return (await this.transport.call('createNamespace', { name, description, retention }, { namespace: name })) as NamespaceInfo;
  }

  /** Every namespace the token may see, by name. */
  async list(): Promise<NamespaceInfo[]> {
    return ((await this.transport.call('listNamespaces', {})) as { namespaces: NamespaceInfo[] }).namespaces;
  }

  /** One namespace; NamespaceNotFoundError (NAMESPACE_NOT_FOUND) if it does not exist. */
  async describe(name: string): Promise<NamespaceInfo> {
    return (await this.transport.call('describeNamespace', { name }, { namespace: name })) as NamespaceInfo;
  }

  /** Changes the description or retention; fields left out keep their value, `description: ''` removes it. */
  async update(name: string, changes: NamespaceOptions): Promise<NamespaceInfo> {
    const { description, retention } = checked(changes);
    return (await this.transport.call('updateNamespace', { name, description, retention }, { namespace: name })) as NamespaceInfo;
  }
}

function checked(options: NamespaceOptions): NamespaceOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('expected options like { description?, retention? }');
  return options;
}
