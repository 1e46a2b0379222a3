import type { Pool } from 'pg';
import { encode } from '../../common/codec.ts';
import { checkedNamespace } from '../level-namespaces.ts';
import type { NamespaceRecord } from '../store.ts';
import type { StoreContext } from './store-context.ts';

/**
 * Namespaces on PostgreSQL: a small table of every server's, not sharded (namespaces are read
 * by every shard's work), so a put is a single-row upsert outside the shard fence. Records are
 * checked by the same code as LevelDB's (`checkedNamespace`). `default` is made by the schema's
 * first open (schema.ts).
 */
export async function getNamespaceOn(context: StoreContext, name: string): Promise<NamespaceRecord | undefined> {
  const { rows } = await context.pool.query<{ record: Buffer }>('SELECT record FROM namespaces WHERE name = $1', [name]);
  return rows[0] && context.decode<NamespaceRecord>(rows[0].record, `namespace "${name}"`);
}

export async function listNamespacesOn(context: StoreContext): Promise<NamespaceRecord[]> {
  const { rows } = await context.pool.query<{ record: Buffer }>('SELECT record FROM namespaces ORDER BY name');
  return rows.map((row) => context.decode<NamespaceRecord>(row.record, 'namespace record'));
}

export async function putNamespaceOn(pool: Pool, record: NamespaceRecord): Promise<void> {
  const stored = checkedNamespace(record);
  await pool.query(
    'INSERT INTO namespaces (name, record) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET record = EXCLUDED.record',
    [stored.name, encode(stored)],
  );
}
