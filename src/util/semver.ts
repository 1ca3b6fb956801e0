// Version order, semver's: numeric `MAJOR.MINOR.PATCH...`, a pre-release below its release.

interface Parsed {
  core: number[];
  pre: string | null;
}

function parse(v: string): Parsed | null {
  const m = /^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]*)?$/.exec(v);
  if (m === null || m[1] === undefined) return null;
  return { core: m[1].split('.').map((x) => Number(x)), pre: m[2] ?? null };
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Pre-release identifiers: numeric ones numerically and below alphanumeric ones. */
function comparePre(a: string, b: string): -1 | 0 | 1 {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) { const d = sign(Number(x) - Number(y)); if (d !== 0) return d; continue; }
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * -1, 0 or 1 as version `a` is older than, the same as, or newer than `b`, by semver
 * (`v` prefix and build metadata ignored). Something that is not a version sorts below
 * every version; two such are compared as strings.
 */
export function compareSemver(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const pa = parse(a);
  const pb = parse(b);
  // Something that is not a version sorts below every version.
  if (pa === null || pb === null) {
    if (pa !== pb) return pa === null ? -1 : 1;
    return a < b ? -1 : 1;
  }
  for (let i = 0; i < Math.max(pa.core.length, pb.core.length); i++) {
    const d = sign((pa.core[i] ?? 0) - (pb.core[i] ?? 0));
    if (d !== 0) return d;
  }
  if (pa.pre !== pb.pre) {
    if (pa.pre === null) return 1;
    if (pb.pre === null) return -1;
    const d = comparePre(pa.pre, pb.pre);
    if (d !== 0) return d;
  }
  return 0;
}
