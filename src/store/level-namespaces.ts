import type { ClassicLevel } from 'classic-level';
import { encode } from '../common/codec.ts';
import { InvalidArgumentError } from '../common/errors.ts';
import { DEFAULT_NAMESPACE, DEFAULT_RETENTION_MS } from '../common/namespaces.ts';
import type { BatchOperation } from './group-commit.ts';
import { keys } from './keys.ts';
import type { NamespaceRecord } from './store.ts';

type Db = ClassicLevel<string, Buffer>;

/**
 * The put that makes `default` on a store's first open; none when it exists. An existing
 * `default` is never touched: its retention may have been changed by its owner.
 */
export function defaultNamespaceOperations(db: Db, now: number): BatchOperation[] {
  if (db.getSync(keys.ns(DEFAULT_NAMESPACE)) !== undefined) return [];
  const record: NamespaceRecord = { name: DEFAULT_NAMESPACE, retention: DEFAULT_RETENTION_MS, createdAt: now, updatedAt: now };
  return [{ type: 'put', key: keys.ns(DEFAULT_NAMESPACE), value: encode(record) }];
}

/**
 * What a namespace record must be before the store writes it (INVALID_ARGUMENT otherwise). The
 * engine validates names and durations for users; this guards the store's own contract.
 */
export function namespacePut(record: NamespaceRecord): BatchOperation {
  const stored = checkedNamespace(record);
  return { type: 'put', key: keys.ns(stored.name), value: encode(stored) };
}

/**
 * The record as a store keeps it (only its known fields), or INVALID_ARGUMENT: shared by every
 * backend, so each refuses the same records with the same message.
 */
export function checkedNamespace(record: NamespaceRecord): NamespaceRecord {
  const refuse = (why: string): never => {
    throw new InvalidArgumentError(`namespace record ${JSON.stringify(record?.name)} refused: ${why}`);
  };
  if (typeof record !== 'object' || record === null) refuse('expected an object.');
  if (typeof record.name !== 'string' || record.name === '') refuse('name must be a non-empty string.');
  if (!Number.isSafeInteger(record.retention) || record.retention <= 0) refuse('retention must be a positive integer of ms.');
  for (const field of ['createdAt', 'updatedAt'] as const) {
    if (!Number.isSafeInteger(record[field]) || record[field] < 0) refuse(`${field} must be a time in ms since the epoch.`);
  }
  if (record.description !== undefined && typeof record.description !== 'string') refuse('description must be a string.');
  const stored: NamespaceRecord = { name: record.name, retention: record.retention, createdAt: record.createdAt, updatedAt: record.updatedAt };
  if (record.description !== undefined) stored.description = record.description;
  return stored;
}
