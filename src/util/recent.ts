/**
 * A bounded memo for values worked out again and again from the same input: `keepRecent`
 * sets KEY and, once MAX are kept, drops the oldest first (insertion order). Small and
 * cheap on purpose: the memos it serves hold tens to a thousand entries.
 */
export function keepRecent<K, V>(memo: Map<K, V>, key: K, value: V, max: number): void {
  if (!memo.has(key) && memo.size >= max) {
    const oldest = memo.keys().next();
    if (oldest.done !== true) memo.delete(oldest.value);
  }
  memo.set(key, value);
}

/**
 * `keepRecent` for a map kept in order of last use: KEY moves to the newest end (set
 * again, it is the most recent), then the oldest go until at most MAX are left.
 */
export function keepLatest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done === true) break;
    map.delete(oldest.value);
  }
}
