import { readFile } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import { ForbiddenError, InvalidArgumentError, UnauthorizedError } from '../common/errors.ts';

export type Role = 'worker' | 'client' | 'admin';

/** One token and what it may do: a role, in one namespace or in all ('*'). */
export interface TokenGrant {
  token: string;
  namespace: string;
  role: Role;
}

/**
 * Bearer-token authentication. With no grants the server is open (and listens on loopback
 * only unless told otherwise); with grants every request and WebSocket upgrade needs one.
 *
 * A token file holds one grant per line, `<token> <namespace|*> <worker|client|admin>`, `#`
 * starting a comment; or a JSON array of `{ token, namespace, role }`.
 */
export class Authenticator {
  private readonly grants: TokenGrant[];

  constructor(grants: readonly TokenGrant[] = []) {
    for (const g of grants) {
      if (typeof g.token !== 'string' || g.token.length < 8) throw new InvalidArgumentError('tokens must be strings of at least 8 characters');
      if (!['worker', 'client', 'admin'].includes(g.role)) throw new InvalidArgumentError(`token role must be worker, client or admin, got "${g.role}"`);
    }
    this.grants = [...grants];
  }

  static async fromFile(path: string): Promise<TokenGrant[]> {
    const text = await readFile(path, 'utf8');
    if (text.trimStart().startsWith('[')) return JSON.parse(text) as TokenGrant[];
    return text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).map((line, i) => {
      const [token, namespace, role] = line.split(/\s+/);
      if (!token || !namespace || !role) throw new InvalidArgumentError(`${path}:${i + 1}: expected "<token> <namespace|*> <worker|client|admin>"`);
      return { token, namespace, role: role as Role };
    });
  }

  get required(): boolean {
    return this.grants.length > 0;
  }

  /**
   * The grant of an `Authorization` header value. Throws UnauthorizedError when tokens are
   * required and the header is missing or matches none; undefined when none are required.
   */
  authenticate(header: string | undefined): TokenGrant | undefined {
    if (!this.required) return undefined;
    const token = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim();
    const grant = token === undefined ? undefined : this.grants.find((g) => safeEqual(g.token, token));
    if (!grant) throw new UnauthorizedError();
    return grant;
  }

  /** Throws ForbiddenError unless the grant allows `role` in `namespace` (admin allows all). */
  authorize(grant: TokenGrant | undefined, namespace: string, role: Exclude<Role, 'admin'>): void {
    if (!this.required) return;
    if (!grant) throw new UnauthorizedError();
    if (grant.namespace !== '*' && grant.namespace !== namespace) {
      throw new ForbiddenError(`this token is for namespace "${grant.namespace}", not "${namespace}".`);
    }
    if (grant.role !== 'admin' && grant.role !== role) {
      throw new ForbiddenError(`this token has the ${grant.role} role; this needs ${role} (or admin).`);
    }
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
