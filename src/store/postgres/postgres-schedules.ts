import { encode } from '../../common/codec.ts';
import { InvalidArgumentError } from '../../common/errors.ts';
import { shardOf } from '../shard-hash.ts';
import type { ListSchedulesPage, ListSchedulesQuery, ScheduleRecord } from '../store.ts';
import { inFencedTransaction, type StoreContext } from './store-context.ts';
import { decodePageToken, encodePageToken, foreignPageToken } from './page-token.ts';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/**
 * Schedules on PostgreSQL: one row per schedule in the shard of hash(namespace, schedule id),
 * written in a transaction that passes the shard fence (the schedule service runs on the owner
 * of that shard). Listing is ordered by namespace then id, in byte order, like LevelDB's keys.
 *
 * @example
 * await putScheduleOn(context, record)
 */
export async function getScheduleOn(context: StoreContext, namespace: string, scheduleId: string): Promise<ScheduleRecord | undefined> {
  const { rows } = await context.pool.query<{ record: Buffer }>(
    'SELECT record FROM schedules WHERE shard = $1 AND namespace = $2 AND schedule_id = $3',
    [shardOf(namespace, scheduleId, context.shardCount), namespace, scheduleId],
  );
  return rows[0] && context.decode<ScheduleRecord>(rows[0].record, `record of schedule "${scheduleId}"`);
}

export async function putScheduleOn(context: StoreContext, record: ScheduleRecord): Promise<void> {
  if (typeof record?.namespace !== 'string' || typeof record.scheduleId !== 'string') {
    throw new InvalidArgumentError('putSchedule needs a record with a namespace and a scheduleId.');
  }
  const bytes = encode(record);
  const shard = shardOf(record.namespace, record.scheduleId, context.shardCount);
  await inFencedTransaction(context, [shard], (client) => client.query(
    `INSERT INTO schedules (shard, namespace, schedule_id, record) VALUES ($1, $2, $3, $4)
     ON CONFLICT (shard, namespace, schedule_id) DO UPDATE SET record = EXCLUDED.record`,
    [shard, record.namespace, record.scheduleId, bytes],
  ));
}

export async function deleteScheduleOn(context: StoreContext, namespace: string, scheduleId: string): Promise<void> {
  const shard = shardOf(namespace, scheduleId, context.shardCount);
  await inFencedTransaction(context, [shard], (client) => client.query(
    'DELETE FROM schedules WHERE shard = $1 AND namespace = $2 AND schedule_id = $3',
    [shard, namespace, scheduleId],
  ));
}

/** A page of schedules; the token is the last (namespace, id) read and the listing's namespace. */
export async function listSchedulesOn(context: StoreContext, query: ListSchedulesQuery): Promise<ListSchedulesPage> {
  const limit = query?.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}.`);
  const size = Math.min(limit, MAX_PAGE);
  const namespace = query?.namespace ?? null;
  const after = query?.pageToken === undefined ? null : parseToken(query.pageToken, namespace);
  const { rows } = await context.pool.query<{ namespace: string; schedule_id: string; record: Buffer }>(
    `SELECT namespace, schedule_id, record FROM schedules
      WHERE ($1::text IS NULL OR namespace = $1) AND ($2::text IS NULL OR (namespace, schedule_id) > ($2, $3))
        AND ($5::integer[] IS NULL OR shard = ANY($5::integer[]))
      ORDER BY namespace, schedule_id LIMIT $4`,
    [namespace, after?.[0] ?? null, after?.[1] ?? null, size + 1, query?.shards === undefined ? null : [...query.shards]],
  );
  const page = rows.slice(0, size);
  const schedules = page.map((row) => context.decode<ScheduleRecord>(row.record, 'schedule record'));
  const last = page[page.length - 1];
  if (rows.length <= size || !last) return { schedules };
  return { schedules, nextPageToken: encodePageToken([namespace, last.namespace, last.schedule_id]) };
}

function parseToken(token: string, namespace: string | null): [string, string] {
  const [listing, lastNamespace, lastId] = decodePageToken(token);
  if (listing !== namespace || typeof lastNamespace !== 'string' || typeof lastId !== 'string') throw foreignPageToken();
  return [lastNamespace, lastId];
}
