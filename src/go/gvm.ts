// gvm's per-project file. `.gvmrc` is a shell script that gvm's cd hook sources; envd runs
// none of it and only reads the lines people write there: `gvm use go1.22.5 [--default]`
// and `gvm pkgset use NAME`.

export interface Gvmrc {
  /** The name after the last `gvm use` (`go1.22.5`), without `@pkgset`; null when none. */
  use: string | null;
  /** A pkgset named by `gvm use goX@NAME` or `gvm pkgset use NAME` (envd does not apply it). */
  pkgset: string | null;
}

/**
 * Read a `.gvmrc`: the last `gvm use NAME` line wins, as it would when the file runs.
 * Flags (`--default`) are ignored; `NAME@pkgset` names a pkgset as well. Other lines,
 * comments and blank lines are skipped.
 */
export function parseGvmrc(text: string): Gvmrc {
  const out: Gvmrc = { use: null, pkgset: null };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const words = line.split(/\s+/).filter((w) => w !== '' && !w.startsWith('-'));
    if (words[0] !== 'gvm') continue;
    if (words[1] === 'use' && words[2] !== undefined) {
      const [name, pkgset] = words[2].split('@', 2);
      out.use = name ?? null;
      if (pkgset !== undefined && pkgset !== '') out.pkgset = pkgset;
    } else if (words[1] === 'pkgset' && words[2] === 'use' && words[3] !== undefined) {
      out.pkgset = words[3];
    }
  }
  return out;
}
