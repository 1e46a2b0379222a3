/**
 * Splits a worker's `total` slots between `connections` nodes as evenly as whole numbers allow:
 * the first `total % connections` get one more. Each gets at least one, since a registration
 * needs a slot: with fewer slots than nodes the shares add up to more than `total`, and the
 * Worker's own count holds the tasks over its limit until a slot frees.
 *
 * An even split, not one by demand: shards (and so tasks) are spread evenly over the nodes, and
 * it changes only when a connection comes or goes, not with every task.
 *
 * @example
 * shareSlots(10, 3) // [4, 3, 3]
 */
export function shareSlots(total: number, connections: number): number[] {
  if (connections <= 0) return [];
  const base = Math.floor(total / connections);
  const extra = total % connections;
  return Array.from({ length: connections }, (_, i) => Math.max(1, base + (i < extra ? 1 : 0)));
}
