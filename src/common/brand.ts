/**
 * `instanceof` that also recognises instances made by another loaded copy of Perdure.
 *
 * Users' bundles and monorepos often load two copies of a package (perdure and @perdure/sdk, or
 * two versions side by side), and a failure thrown by one copy would not be `instanceof` the
 * class a user imported from the other. After Temporal's SDK, every Perdure error and failure
 * carries a brand (a registry symbol, the same in every copy), and the classes' `instanceof`
 * accepts a branded value whose prototype chain has a class of the same name.
 *
 * Class names are what identify: a minifier that renames classes differently in two copies
 * makes a cross-copy check fall back to false (never to a wrong true for the same copy, which
 * is checked first, as plain `instanceof` would).
 *
 * @example
 * class PerdureError extends Error {
 *   static [Symbol.hasInstance](value: unknown) { return isBranded(this, value, ERROR_BRAND); }
 * }
 */
export const FAILURE_BRAND: unique symbol = Symbol.for('perdure.failure');
export const ERROR_BRAND: unique symbol = Symbol.for('perdure.error');

export function isBranded(type: abstract new (...args: never[]) => unknown, value: unknown, brand: symbol): boolean {
  if (Function.prototype[Symbol.hasInstance].call(type, value)) return true;
  if (typeof value !== 'object' || value === null || !(brand in value)) return false;
  for (let proto = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (Object.hasOwn(proto, 'constructor') && (proto.constructor as { name?: string }).name === type.name) return true;
  }
  return false;
}
