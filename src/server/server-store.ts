import { InvalidArgumentError } from '../common/errors.ts';
import { LevelStore } from '../store/level-store.ts';
import type { Durability, Store } from '../store/store.ts';

/** What `createServer({ store })` takes: a store, or the URL of a PostgreSQL database. */
export type ServerStoreOption = Store | string;

/**
 * The store a server runs on: the one given, a PostgresStore for a `postgres://` URL, or none
 * (the embedded LevelDB store in `dataDir`, the default). The PostgreSQL
 * client is loaded only when a URL asks for it, so a LevelDB server never loads `pg`.
 *
 * @example
 * await serverStore('postgres://perdure@db/perdure?pool_size=20', { dataDir: './.perdure' })
 */
export async function serverStore(
  option: ServerStoreOption | undefined,
  embedded: { dataDir: string; durability?: Durability },
): Promise<{ store: Store; label: string }> {
  if (option === undefined) {
    return { store: new LevelStore({ directory: embedded.dataDir, durability: embedded.durability }), label: embedded.dataDir };
  }
  if (typeof option !== 'string') return { store: option, label: 'the given store' };
  if (!/^postgres(ql)?:\/\//.test(option)) {
    throw new InvalidArgumentError(
      `store ${JSON.stringify(option)} is not a PostgreSQL URL (postgres://user@host/database); ` +
        'for the embedded LevelDB store give a data directory (dataDir, --data) instead.',
    );
  }
  const { PostgresStore } = await import('../store/postgres/postgres-store.ts');
  const store = new PostgresStore({ url: option });
  return { store, label: store.label };
}
