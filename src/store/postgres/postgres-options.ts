import type { PoolConfig } from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { InvalidArgumentError } from '../../common/errors.ts';
import type { BatchObserver } from '../group-commit.ts';

/**
 * Options of {@link PostgresStore}. Only `url` is required.
 *
 * @example
 * new PostgresStore({ url: 'postgres://perdure@db.internal/perdure?sslmode=verify-full', poolSize: 20 })
 */
export interface PostgresStoreOptions {
  /**
   * A libpq-style URL, `postgres://user:password@host:port/database`. Besides what `pg`
   * understands (`sslmode`, `sslrootcert`, `application_name`, …) it may carry Perdure's own
   * `schema`, `pool_size` and `statement_timeout` (ms); options given here win over the URL's.
   */
  url: string;
  /** The PostgreSQL schema holding Perdure's tables, created if missing. Default `perdure`. */
  schema?: string;
  /** Connections in the pool. Default 10. The lease heartbeat has one more of its own. */
  poolSize?: number;
  /** Longest a statement may run before PostgreSQL cancels it, in ms (0: no limit). Default 30,000. */
  statementTimeoutMs?: number;
  /** TLS: `true`, or Node's TLS options (`ca`, `cert`, `key`, `rejectUnauthorized`…). Default: what the URL's `sslmode` says. */
  ssl?: boolean | ConnectionOptions;
  /**
   * Shards of a database this store initialises (default 64). Stored in the database on its
   * first open and never changed: a later open with another value is refused.
   */
  shardCount?: number;
  /**
   * This node's name in the `nodes` and `shards` tables. Default: `<hostname>:<pid>:<random>`.
   * A node restarted under the same id takes its own shards back at once (a new epoch fences
   * the old process); under a new id it waits for their leases to run out. Also `?node_id=`.
   */
  nodeId?: string;
  /**
   * How long a take or a renewal holds a shard, in ms of database time (also how long a node is
   * live after its last heartbeat). A node that stops renewing is taken over after about this
   * long. Default 10,000; also `?lease_ms=` in the URL.
   */
  leaseMs?: number;
  /** How often the node renews its heartbeat and leases, and evens out shards, in ms. Default `leaseMs / 3`; below `leaseMs`. */
  renewMs?: number;
  /** Where other nodes, workers and clients reach this node, `host:port`; also `setAddress()` once it listens. */
  address?: string;
  /**
   * Awaited (at most `leaseMs / 3`) before this node gives shards up so a node below its fair
   * share can take them: the time to drain their executions. The shards are still held while it
   * runs; afterwards they are released and the listeners are told they were lost.
   */
  beforeRelease?: (shards: number[]) => Promise<void>;
  /** Told of every group-committed transaction (commits, rows, milliseconds): for metrics. */
  onBatch?: BatchObserver;
}

/** The options with defaults applied and the URL's own parameters taken out. */
export interface ResolvedPostgresOptions {
  pool: PoolConfig;
  schema: string;
  shardCount: number | undefined;
  leaseMs: number;
  renewMs: number;
  /** The URL's `node_id`, when it has one (`options.nodeId` wins). */
  nodeId: string | undefined;
  /** The URL without its password, for messages. */
  label: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks the options, reads Perdure's parameters out of the URL and builds the pool's config.
 * The schema name becomes part of each connection's `search_path`, so it must be a plain
 * lower-case identifier (no quoting games in a connection option).
 *
 * @example
 * resolvePostgresOptions({ url: 'postgres://postgres@127.0.0.1/test?schema=t1&pool_size=4' }).pool.max // 4
 */
export function resolvePostgresOptions(options: PostgresStoreOptions): ResolvedPostgresOptions {
  if (!options || typeof options.url !== 'string' || !/^postgres(ql)?:\/\//.test(options.url)) {
    throw new InvalidArgumentError('PostgresStore needs a `url` like postgres://user@host:5432/database.');
  }
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new InvalidArgumentError(`PostgresStore: ${JSON.stringify(redact(options.url))} is not a valid URL.`);
  }
  const take = (name: string): string | undefined => {
    const value = url.searchParams.get(name) ?? undefined;
    url.searchParams.delete(name);
    return value;
  };
  const fromUrl = { schema: take('schema'), poolSize: take('pool_size'), statementTimeout: take('statement_timeout'), leaseMs: take('lease_ms'), nodeId: take('node_id') };
  const schema = options.schema ?? fromUrl.schema ?? 'perdure';
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidArgumentError(`PostgresStore: schema ${JSON.stringify(schema)} must be a lower-case identifier (letters, digits, _).`);
  }
  const poolSize = integer('poolSize', options.poolSize ?? numberOf('pool_size', fromUrl.poolSize) ?? 10, 1);
  const statementTimeoutMs = integer('statementTimeoutMs', options.statementTimeoutMs ?? numberOf('statement_timeout', fromUrl.statementTimeout) ?? 30_000, 0);
  const shardCount = options.shardCount === undefined ? undefined : integer('shardCount', options.shardCount, 1);
  if (shardCount !== undefined && shardCount > 65_536) throw new InvalidArgumentError('PostgresStore: shardCount must be at most 65536.');
  const leaseMs = integer('leaseMs', options.leaseMs ?? numberOf('lease_ms', fromUrl.leaseMs) ?? 10_000, 100);
  const renewMs = integer('renewMs', options.renewMs ?? Math.max(1, Math.floor(leaseMs / 3)), 1);
  if (renewMs >= leaseMs) throw new InvalidArgumentError(`PostgresStore: renewMs (${renewMs}) must be below leaseMs (${leaseMs}), or every lease lapses before it is renewed.`);
  const pool: PoolConfig = {
    connectionString: url.toString(),
    max: poolSize,
    statement_timeout: statementTimeoutMs,
    application_name: url.searchParams.get('application_name') ?? 'perdure',
    // Every unqualified name resolves in Perdure's schema; set by the server at connection start.
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 10_000,
  };
  if (options.ssl !== undefined) pool.ssl = options.ssl;
  return { pool, schema, shardCount, leaseMs, renewMs, nodeId: fromUrl.nodeId, label: `${redact(options.url)} (schema ${schema})` };
}

function integer(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError(`PostgresStore: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}.`);
  return value;
}

function numberOf(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`PostgresStore: the URL's ${name} must be an integer, got ${JSON.stringify(text)}.`);
  return value;
}

/** The URL with its password replaced, fit for a log line or an error message. */
export function redact(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
