import type { Duration } from '../../common/activity-options.ts';
import { InvalidArgumentError, NamespaceAlreadyExistsError, NamespaceNotFoundError } from '../../common/errors.ts';
import {
  DEFAULT_NAMESPACE, DEFAULT_RETENTION_MS, retentionMs, validateDescription, validateNamespaceName, type NamespaceInfo,
} from '../../common/namespaces.ts';
import type { NamespaceRecord, NamespaceStore } from '../../store/store.ts';
import type { Clock } from '../../common/clock.ts';

/** What `create` takes: a name, and optionally a description and a retention (default 30 days). */
export interface CreateNamespaceOptions {
  name: string;
  description?: string;
  /** How long closed executions are kept: a Duration such as '7d' or '72h', or ms. */
  retention?: Duration | string;
}

/** What `update` may change; fields left out keep their value. An empty description removes it. */
export interface UpdateNamespaceOptions {
  description?: string;
  retention?: Duration | string;
}

/**
 * The namespaces of an engine: durable records in the store, all held in memory so that the
 * check every start, signal and listing makes ("does this namespace exist?") costs no read.
 *
 * On one node the memory copy is exact: one process owns the store (its lock), every change goes
 * through here, and a change enters memory only once the store has it durably. Changes run one
 * at a time, so two creates of one name cannot both succeed.
 *
 * In a cluster other nodes change namespaces too, so the copy may lag: a name this node has not
 * seen is read from the store (`ensure`, at the service boundary) before it is refused, every
 * namespace is read again every `refreshEveryMs` (a retention changed elsewhere), and a create
 * or an update reads the store's record first. Two nodes creating one name at the same instant
 * may both succeed, the later write winning: namespaces are made by operators, not by traffic.
 *
 * @example
 * await engine.namespaces.create({ name: 'billing', description: 'invoices', retention: '7d' });
 * engine.namespaces.require('billing');                 // the record, or NamespaceNotFoundError
 * await engine.namespaces.update('billing', { retention: '90d' });
 */
export class NamespaceRegistry {
  private readonly known = new Map<string, NamespaceRecord>();
  private writes: Promise<unknown> = Promise.resolve();
  private refreshTimer?: ReturnType<typeof setInterval>;

  constructor(private readonly store: NamespaceStore, private readonly clock: Clock) {}

  /**
   * Reads every namespace again every `everyMs`, for a store other nodes write too. A failed read
   * keeps the copy as it was (the next one may work). Stopped by `stop()`.
   */
  follow(everyMs: number): void {
    this.refreshTimer ??= setInterval(() => void this.readAll().catch(() => {}), everyMs);
    this.refreshTimer.unref();
  }

  stop(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  /**
   * Reads `name` from the store when this node has not seen it (in a cluster, another node may
   * have just made it). Resolves either way: the caller's own check (`require`) then refuses a
   * name the store lacks too, or a malformed one, with its usual code.
   */
  /** Whether this node knows `name` already (then `lookUp` has nothing to read). */
  knows(name: string): boolean {
    return this.known.has(name);
  }

  async lookUp(name: unknown): Promise<void> {
    if (typeof name !== 'string' || this.known.has(name)) return;
    try {
      validateNamespaceName(name);
    } catch {
      return;
    }
    const record = await this.store.getNamespace(name);
    if (record) this.known.set(record.name, record);
  }

  /** The namespace's record as the store has it now (and so in memory): for describing it. */
  async read(name: string): Promise<NamespaceInfo> {
    await this.lookUp(name);
    const record = typeof name === 'string' && this.known.has(name) ? await this.store.getNamespace(name) : undefined;
    if (!record) return this.require(name);
    this.known.set(record.name, record);
    return { ...record };
  }

  /** Every namespace as the store has it now (and so in memory), by name: for listing them. */
  async readAll(): Promise<NamespaceInfo[]> {
    await this.serial(async () => {
      for (const record of await this.store.listNamespaces()) this.known.set(record.name, record);
    });
    return this.list();
  }

  /** Reads every namespace into memory. Makes `default` if the store lacks it (a backend may not make it on open). */
  async load(): Promise<void> {
    this.known.clear();
    for (const record of await this.store.listNamespaces()) this.known.set(record.name, record);
    if (!this.known.has(DEFAULT_NAMESPACE)) {
      await this.write({ name: DEFAULT_NAMESPACE, retention: DEFAULT_RETENTION_MS, createdAt: this.clock.now(), updatedAt: this.clock.now() });
    }
  }

  /** The namespace's record; NamespaceNotFoundError (code NAMESPACE_NOT_FOUND) when it does not exist. */
  require(name: string): NamespaceInfo {
    const record = typeof name === 'string' ? this.known.get(name) : undefined;
    if (!record) throw new NamespaceNotFoundError(String(name));
    return { ...record };
  }

  has(name: string): boolean {
    return this.known.has(name);
  }

  /** Every namespace, by name. */
  list(): NamespaceInfo[] {
    return [...this.known.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((r) => ({ ...r }));
  }

  /** Creates a namespace; NAMESPACE_ALREADY_EXISTS if the name is taken. Resolves once durable. */
  create(options: CreateNamespaceOptions): Promise<NamespaceInfo> {
    if (typeof options !== 'object' || options === null) {
      return Promise.reject(new InvalidArgumentError('create a namespace with { name, description?, retention? }'));
    }
    return this.serial(async () => {
      const name = validateNamespaceName(options.name);
      const description = options.description === undefined ? undefined : validateDescription(options.description);
      const retention = options.retention === undefined ? DEFAULT_RETENTION_MS : retentionMs(options.retention);
      if (this.known.has(name) || await this.store.getNamespace(name)) throw new NamespaceAlreadyExistsError(name);
      const now = this.clock.now();
      const record: NamespaceRecord = { name, retention, createdAt: now, updatedAt: now };
      if (description) record.description = description;
      await this.write(record);
      return { ...record };
    });
  }

  /**
   * Changes a namespace's description or retention. A shorter retention applies at the next
   * sweep to every closed execution of the namespace, including those closed before the change.
   */
  update(name: string, changes: UpdateNamespaceOptions): Promise<NamespaceInfo> {
    if (typeof changes !== 'object' || changes === null) {
      return Promise.reject(new InvalidArgumentError('update a namespace with { description?, retention? }'));
    }
    return this.serial(async () => {
      // The store's record: another node of a cluster may have changed it since this one read it.
      const current = (typeof name === 'string' ? await this.store.getNamespace(name) : undefined) ?? this.require(name);
      const next: NamespaceRecord = { ...current, updatedAt: Math.max(this.clock.now(), current.createdAt) };
      if (changes.retention !== undefined) next.retention = retentionMs(changes.retention);
      if (changes.description !== undefined) {
        const description = validateDescription(changes.description);
        if (description === '') delete next.description;
        else next.description = description;
      }
      await this.write(next);
      return { ...next };
    });
  }

  private async write(record: NamespaceRecord): Promise<void> {
    await this.store.putNamespace(record);
    this.known.set(record.name, record);
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.writes.then(job, job);
    this.writes = run.catch(() => {});
    return run;
  }
}
