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
