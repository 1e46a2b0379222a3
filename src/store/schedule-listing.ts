import type { ClassicLevel } from 'classic-level';
import { InvalidArgumentError } from '../common/errors.ts';
import { keys, prefixRange } from './keys.ts';
import { pageTokenOf } from './listing-plan.ts';
import type { ListSchedulesPage, ListSchedulesQuery, ScheduleRecord } from './store.ts';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/**
 * `LevelStore.listSchedules`: a range read of `sched/<ns>/` (or `sched/` for every namespace),
 * one row more than the page to know whether another follows. The token is the last key read,
 * so a page continues exactly after it even if schedules were added or deleted in between.
 *
 * @example
 * const page = await listScheduleRecords(db, { namespace: 'default', limit: 50 }, decodeRecord);
 */
export async function listScheduleRecords(
  db: ClassicLevel<string, Buffer>,
  query: ListSchedulesQuery,
  decodeRecord: (value: Buffer) => ScheduleRecord,
): Promise<ListSchedulesPage> {
  const limit = query.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}.`);
  const prefix = keys.schedulePrefix(query.namespace);
  const whole = prefixRange(prefix);
  const range = query.pageToken === undefined ? whole : { gt: afterToken(query.pageToken, prefix), lt: whole.lt };
  const size = Math.min(limit, MAX_PAGE);
  const rows = await db.iterator({ ...range, limit: size + 1 }).all();
  const page = rows.slice(0, size);
  const schedules = page.map(([, value]) => decodeRecord(value));
  const last = page[page.length - 1];
  return rows.length > size && last ? { schedules, nextPageToken: pageTokenOf(last[0]) } : { schedules };
}

function afterToken(token: string, prefix: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (!key.startsWith(prefix)) {
    throw new InvalidArgumentError('pageToken does not belong to this listing: pass the token of the previous page of the same query.');
  }
  return key;
}
