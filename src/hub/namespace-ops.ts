import { ForbiddenError, UnauthorizedError } from '../common/errors.ts';
import type { NamespaceInfo } from '../common/namespaces.ts';
import type { NamespaceOp } from '../common/namespace-wire.ts';
import type { CallArgs } from '../common/wire.ts';
import type { ExecutionService } from '../engine/api.ts';
import type { Authenticator, TokenGrant } from './auth.ts';

/**
 * The namespace operations, for both transports, with who may do what when the server has tokens:
 *
 * | operation          | needs                                                        |
 * | ------------------ | ------------------------------------------------------------ |
 * | createNamespace    | an `admin` token for every namespace (`*`)                   |
 * | updateNamespace    | an `admin` token for that namespace, or for `*`              |
 * | describeNamespace  | a `client` or `admin` token for that namespace, or for `*`   |
 * | listNamespaces     | any `client` or `admin` token; one scoped to a namespace sees only that one |
 *
 * Creating is reserved to `*` admins because a new namespace is a new isolation unit: a token
 * scoped to one namespace must not be able to make others.
 */
export async function namespaceOp(engine: ExecutionService, auth: Authenticator, grant: TokenGrant | undefined, op: NamespaceOp, args: unknown): Promise<unknown> {
  const namespaces = engine.namespaces;
  switch (op) {
    case 'createNamespace': {
      const { name, description, retention } = args as CallArgs<'createNamespace'>;
      requireAdmin(auth, grant, '*');
      return namespaces.create({ name, description, retention });
    }
    case 'updateNamespace': {
      const { name, description, retention } = args as CallArgs<'updateNamespace'>;
      requireAdmin(auth, grant, name);
      return namespaces.update(name, { description, retention });
    }
    case 'describeNamespace': {
      const { name } = args as CallArgs<'describeNamespace'>;
      auth.authorize(grant, name, 'client');
      // Read from the store: in a cluster another node may have changed it.
      return namespaces.read(name);
    }
    case 'listNamespaces': {
      if (grant) auth.authorize(grant, grant.namespace === '*' ? 'default' : grant.namespace, 'client');
      const all = await namespaces.readAll();
      const visible: NamespaceInfo[] = !auth.required || grant?.namespace === '*' ? all : all.filter((n) => n.name === grant?.namespace);
      return { namespaces: visible };
    }
  }
}

/** An admin token for `namespace` (`'*'`: for every namespace). */
function requireAdmin(auth: Authenticator, grant: TokenGrant | undefined, namespace: string): void {
  if (!auth.required) return;
  if (!grant) throw new UnauthorizedError();
  if (grant.role !== 'admin') {
    throw new ForbiddenError(`this token has the ${grant.role} role; ${namespace === '*' ? 'creating' : 'changing'} a namespace needs an admin token.`);
  }
  if (grant.namespace !== '*' && grant.namespace !== namespace) {
    throw new ForbiddenError(namespace === '*'
      ? `creating a namespace needs an admin token for every namespace ("*"), not one for "${grant.namespace}".`
      : `this token is for namespace "${grant.namespace}", not "${namespace}".`);
  }
}
