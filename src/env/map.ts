/**
 * Maps keyed by environment variable names. A shell variable may be called `__proto__`,
 * `constructor` or `toString`; on an ordinary object the first is swallowed by the
 * prototype setter and the others read back as Object.prototype's functions when absent.
 * These maps have no prototype, so every name is an ordinary entry and an absent one is
 * `undefined`.
 */
export function newNameMap<T = string>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A prototype-free copy of the own entries of each source, later sources winning. */
export function copyNameMap<T>(...sources: ReadonlyArray<Readonly<Record<string, T>> | undefined>): Record<string, T> {
  const out = newNameMap<T>();
  for (const src of sources) {
    if (src === undefined) continue;
    for (const name of Object.keys(src)) out[name] = src[name] as T;
  }
  return out;
}

/** Own-entry lookup that never reaches a prototype, whatever object it is given. */
export function ownValue<T>(map: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(map, name) ? map[name] : undefined;
}
