import { z } from 'zod';

/**
 * The client operations on namespaces (the `call` frames' `op`), not scoped to the connection's
 * namespace: `createNamespace` needs an admin token for every namespace, `updateNamespace` an
 * admin token for that namespace (see hub/namespace-ops.ts).
 */
export const NAMESPACE_OPS = ['createNamespace', 'listNamespaces', 'describeNamespace', 'updateNamespace'] as const;
export type NamespaceOp = (typeof NAMESPACE_OPS)[number];

/** A retention as the wire carries it: ms, or a Duration string such as '30d' (checked by the engine). */
const retention = z.union([z.number().finite().nonnegative(), z.string().min(1).max(100)]);
const name = z.string().min(1).max(1000);
const description = z.string().max(1000);

/**
 * Argument schemas of the namespace operations. Strict: an unknown field (a typo such as
 * `retentionDays`) is refused rather than silently ignored by an update.
 */
export const namespaceCallArgs = {
  createNamespace: z.strictObject({ name, description: description.optional(), retention: retention.optional() }),
  listNamespaces: z.strictObject({}),
  describeNamespace: z.strictObject({ name }),
  updateNamespace: z.strictObject({ name, description: description.optional(), retention: retention.optional() }),
} satisfies Record<NamespaceOp, z.ZodType>;
