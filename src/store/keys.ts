import { InvalidArgumentError } from '../common/errors.ts';
import type { ExecutionStatus } from '../common/history.ts';
import type { SearchAttributes, SearchAttributeValue } from '../common/search-attributes.ts';

/**
 * Key layout of the LevelDB store. Keys are ASCII strings compared byte by byte, so every
 * scan is a range read:
 *
 * ```
 * exec/<ns>/<workflowId>                          → runId (the run the workflow id points at)
 * idem/<ns>/<idempotencyKey>                      → runId
 * run/<runId>                                     → RunRecord
 * hist/<runId>/<seq>                              → checksum + HistoryEvent
 * timer/<dueAt>/<runId>/<kind>/<id>               → TimerEntry       (earliest first)
 * task/<runId>/<activityId>                       → TaskEntry
 * vis/<ns>/<newest>/<runId>                       → RunSummary       (newest first)
 * vis-status/<ns>/<status>/<newest>/<runId>       → RunSummary
 * vis-type/<ns>/<type>/<newest>/<runId>           → RunSummary
 * vis-status-type/<ns>/<status>/<type>/<newest>/<runId> → RunSummary
 * ns/<name>                                       → NamespaceRecord
 * closed/<ns>/<closedAt>/<runId>                  → (empty)          (retention: oldest closed first)
 * meta/<name>                                     → store metadata (which one-time upgrades ran)
 * sched/<ns>/<scheduleId>                         → ScheduleRecord   (by namespace, then id)
 * vis-attr/<ns>/<name>/<value>/<newest>/<runId>   → RunSummary       (one per search attribute set)
 * ```
 *
 * Every string component goes through `encodeURIComponent`, so it never contains `/` (workflow
 * ids are user strings and may) and keys stay ASCII. Numbers are zero-padded to 16 digits
 * (enough for any safe integer); `<newest>` is `MAX_SAFE_INTEGER - startedAt`, so the newest
 * run sorts first. One index per filter combination of status and type keeps those listings
 * a plain range scan, and a start-time window is a key range on the same index. The close-time
 * and workflow-id-prefix filters are checked on each row while scanning the narrowest index
 * (see `LevelStore.listRuns` for the cost).
 *
 * A search attribute's `<value>` is typed and ordered: `k` + the encoded keyword, `b0`/`b1`, or
 * `n` + 16 hex digits that sort as the number does (`orderedNumber`). So an exact match on any
 * attribute is a prefix whose rows are newest first, like the status index, and a start window
 * is a key range on it too; the values of one attribute sort by value before time.
 */

const WIDTH = 16;

/** The characters `encodeURIComponent` leaves as they are (run ids, most names): nothing to encode. */
const UNRESERVED = /^[A-Za-z0-9_.!~*'()-]*$/;

/** A string component of a key; never contains `/`. */
function part(value: string, what: string): string {
  if (UNRESERVED.test(value)) return value; // a third of the time of encoding it, on every commit
  try {
    return encodeURIComponent(value);
  } catch {
    // encodeURIComponent throws on a lone surrogate, which UTF-8 could not store faithfully.
    throw new InvalidArgumentError(`${what} ${JSON.stringify(value)} is not well-formed Unicode.`);
  }
}

/** A zero-padded non-negative integer, so lexical order is numeric order. */
function num(value: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${value}.`);
  }
  return String(value).padStart(WIDTH, '0');
}

function clampTime(value: number): number {
  return Math.min(Math.max(0, value), Number.MAX_SAFE_INTEGER);
}

function newest(startedAt: number): string {
  num(startedAt, 'run startedAt'); // validates before inverting
  return num(Number.MAX_SAFE_INTEGER - startedAt, 'run startedAt');
}

/**
 * The range `{ gte, lt }` of every key that starts with `prefix` (which ends in `/`).
 * `'0'` is the character right after `/`, so the upper bound is exact.
 *
 * @example
 * db.keys(prefixRange(keys.histPrefix(runId)))
 */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: `${prefix.slice(0, -1)}0` };
}

/**
 * Builders of every key the store writes. Each validates its numeric parts
 * (InvalidArgumentError for a negative or fractional number).
 *
 * @example
 * keys.hist('r-1', 3) // 'hist/r-1/0000000000000003'
 */
export const keys = {
  exec: (ns: string, workflowId: string) => `exec/${part(ns, 'namespace')}/${part(workflowId, 'workflow id')}`,
  idem: (ns: string, key: string) => `idem/${part(ns, 'namespace')}/${part(key, 'idempotency key')}`,
  run: (runId: string) => `run/${part(runId, 'run id')}`,
  histPrefix: (runId: string) => `hist/${part(runId, 'run id')}/`,
  hist: (runId: string, seq: number) => `hist/${part(runId, 'run id')}/${num(seq, 'event seq')}`,
  /** Every timer due at or before `dueAt` sorts below `timerBound(dueAt)`. */
  timerPrefix: () => 'timer/',
  timerBound: (dueBefore: number) => {
    // Clamped rather than refused: any time is a fair question ("what is due before t?").
    const bound = Math.min(Math.max(0, Math.floor(dueBefore) + 1), Number.MAX_SAFE_INTEGER);
    return `timer/${num(Number.isNaN(bound) ? 0 : bound, 'dueBefore')}`;
  },
  timer: (entry: { dueAt: number; runId: string; kind: string; id: string }) =>
    `timer/${num(entry.dueAt, 'timer dueAt')}/${part(entry.runId, 'run id')}/${part(entry.kind, 'timer kind')}/${part(entry.id, 'timer id')}`,
  taskPrefix: () => 'task/',
  task: (runId: string, activityId: string) => `task/${part(runId, 'run id')}/${part(activityId, 'activity id')}`,
  /** A schedule's record. */
  schedule: (ns: string, scheduleId: string) => `sched/${part(ns, 'namespace')}/${part(scheduleId, 'schedule id')}`,
  /** Every schedule of a namespace, or (without one) of every namespace. */
  schedulePrefix: (ns?: string) => (ns === undefined ? 'sched/' : `sched/${part(ns, 'namespace')}/`),
  /** The listing prefix a query scans: the narrowest index that answers its filters. */
  visPrefix: (ns: string, status?: ExecutionStatus, type?: string): string => {
    const n = part(ns, 'namespace');
    if (status !== undefined && type !== undefined) return `vis-status-type/${n}/${part(status, 'status')}/${part(type, 'type')}/`;
    if (status !== undefined) return `vis-status/${n}/${part(status, 'status')}/`;
    if (type !== undefined) return `vis-type/${n}/${part(type, 'type')}/`;
    return `vis/${n}/`;
  },
  /**
   * The key range of a listing index holding the runs started in `[startedAfter, startedBefore)`:
   * the index is ordered by `<newest>`, so a start-time window is a plain range read.
   * Bounds outside the representable times are clamped (any window is a fair question).
   */
  visRange: (prefix: string, startedAfter?: number, startedBefore?: number): { gte: string; lt: string } => {
    const whole = prefixRange(prefix);
    if (startedBefore !== undefined && startedBefore <= 0) return { gte: whole.lt, lt: whole.lt }; // nothing starts before 0
    // startedAt < startedBefore  ⇔  newest ≥ MAX - startedBefore + 1
    const gte = startedBefore === undefined ? whole.gte : prefix + num(clampTime(Number.MAX_SAFE_INTEGER - Math.ceil(startedBefore) + 1), 'startedBefore');
    // startedAt ≥ startedAfter  ⇔  newest ≤ MAX - startedAfter  ⇔  key < prefix + (MAX - startedAfter + 1)
    const lt = startedAfter === undefined || Math.ceil(startedAfter) <= 0
      ? whole.lt
      : prefix + num(clampTime(Number.MAX_SAFE_INTEGER - Math.ceil(startedAfter) + 1), 'startedAfter');
    return { gte, lt };
  },
  ns: (name: string) => `ns/${part(name, 'namespace')}`,
  nsPrefix: () => 'ns/',
  /** The close-time index of a namespace: a closed run's entry, written by the commit that closes it. */
  closedPrefix: (ns: string) => `closed/${part(ns, 'namespace')}/`,
  closed: (ns: string, closedAt: number, runId: string) => `closed/${part(ns, 'namespace')}/${num(closedAt, 'run closedAt')}/${part(runId, 'run id')}`,
  /** Every entry of runs closed before `closedBefore` sorts below this key (numbers have one width). */
  closedBound: (ns: string, closedBefore: number) => `closed/${part(ns, 'namespace')}/${num(clampTime(Math.ceil(closedBefore)), 'closedBefore')}`,
  /** The run id and close time an entry of the close-time index names. */
  closedEntry: (key: string): { runId: string; closedAt: number } => {
    const [, , closedAt = '', runId = ''] = key.split('/');
    return { runId: decodeURIComponent(runId), closedAt: Number(closedAt) };
  },
  meta: (name: string) => `meta/${part(name, 'meta key')}`,
  /** The index of one search attribute: every value, ordered by value, then newest first. */
  visAttrPrefix: (ns: string, name: string): string => `vis-attr/${part(ns, 'namespace')}/${part(name, 'search attribute name')}/`,
  /**
   * The key range of a number attribute's index holding the values within `bounds`, and where
   * the `<newest>/<runId>` tail of its keys starts (numbers are fixed-width, so it is fixed).
   */
  visAttrNumberRange: (ns: string, name: string, bounds: { gte?: number; gt?: number; lte?: number; lt?: number }): { range: { gte: string; lt: string }; tailAt: number } => {
    const prefix = `${keys.visAttrPrefix(ns, name)}n`;
    // A key is prefix + 16 hex + '/' + tail; '0' sorts right after '/', so `+ '0'` passes over one value.
    const lower = bounds.gte !== undefined ? prefix + orderedNumber(bounds.gte, name) : bounds.gt !== undefined ? `${prefix + orderedNumber(bounds.gt, name)}0` : prefix;
    const upper = bounds.lt !== undefined ? prefix + orderedNumber(bounds.lt, name) : bounds.lte !== undefined ? `${prefix + orderedNumber(bounds.lte, name)}0` : `${keys.visAttrPrefix(ns, name)}o`;
    return { range: { gte: lower, lt: upper < lower ? lower : upper }, tailAt: prefix.length + 17 };
  },
  /** The listing prefix of runs whose attribute `name` has exactly `value`. */
  visAttrValuePrefix: (ns: string, name: string, value: SearchAttributeValue): string =>
    `${keys.visAttrPrefix(ns, name)}${attributeValue(value, name)}/`,
  /**
   * The listing keys of a run in a given status: one per index (four), then one per search
   * attribute it has. Deleting these keys removes the run from every listing.
   */
  vis: (run: { namespace: string; status: ExecutionStatus; type: string; startedAt: number; runId: string; searchAttributes?: SearchAttributes }): string[] => {
    const tail = `${newest(run.startedAt)}/${part(run.runId, 'run id')}`;
    const listed = [
      keys.visPrefix(run.namespace) + tail,
      keys.visPrefix(run.namespace, run.status) + tail,
      keys.visPrefix(run.namespace, undefined, run.type) + tail,
      keys.visPrefix(run.namespace, run.status, run.type) + tail,
    ];
    for (const [name, value] of Object.entries(run.searchAttributes ?? {})) listed.push(keys.visAttrValuePrefix(run.namespace, name, value) + tail);
    return listed;
  },
};

/** A search attribute value as a key component, typed so that values of one type sort together and in order. */
function attributeValue(value: SearchAttributeValue, name: string): string {
  switch (typeof value) {
    case 'string': return `k${part(value, `search attribute "${name}"`)}`;
    case 'boolean': return value ? 'b1' : 'b0';
    case 'number': return `n${orderedNumber(value, name)}`;
    default: throw new InvalidArgumentError(`search attribute "${name}" must be a string, a number or a boolean, got ${typeof value}.`);
  }
}

/**
 * A finite number as 16 hex digits whose byte order is numeric order: the IEEE 754 bits with
 * the sign bit flipped for positive numbers and every bit flipped for negative ones (so more
 * negative sorts lower). -0 is 0.
 *
 * @example
 * orderedNumber(-1) < orderedNumber(0) && orderedNumber(0) < orderedNumber(0.5) // true
 */
export function orderedNumber(value: number, name = 'number'): string {
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`search attribute "${name}" must be a finite number, got ${value}.`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value === 0 ? 0 : value);
  const bits = view.getBigUint64(0);
  const ordered = bits >> 63n ? ~bits & 0xffff_ffff_ffff_ffffn : bits | (1n << 63n);
  return ordered.toString(16).padStart(16, '0');
}
