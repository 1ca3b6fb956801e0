// Go version numbers as Go itself writes them: `1.22.5`, `1.22`, `1.21rc2`, `1.20beta1`.
//
// Two eras matter. Before Go 1.21 the first release of a line had no patch number
// (`go1.20`), and `1.20` was both a release and the language version. From 1.21 on, the
// first release is `1.21.0`, and `1.21` names only the language version (what a `go 1.21`
// line in go.mod means). Installed SDKs always carry a release or pre-release version, so
// for them `1.20` and `1.20.0` are the same release.

export type GoPreKind = 'alpha' | 'beta' | 'rc';

export interface GoVersion {
  major: number;
  minor: number;
  /** null when not written (`1.22`, `1.21rc2`, `go1.20`). */
  patch: number | null;
  pre: { kind: GoPreKind; n: number } | null;
}

const VERSION_RE = /^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(?:(alpha|beta|rc)(\d+))?$/;

/** Parse `1.22.5`, `go1.22.5`, `1.22`, `1.21rc2`. Anything else (including `1`, `v1.22`) is null. */
export function parseGoVersion(text: string): GoVersion | null {
  const m = VERSION_RE.exec(text.trim());
  if (m === null) return null;
  const [, major, minor, patch, kind, n] = m;
  if (major === undefined || minor === undefined) return null;
  // A pre-release with a patch number (`1.21.1rc1`) is not something Go publishes.
  if (patch !== undefined && kind !== undefined) return null;
  return {
    major: Number(major),
    minor: Number(minor),
    patch: patch === undefined ? null : Number(patch),
    pre: kind === undefined || n === undefined ? null : { kind: kind as GoPreKind, n: Number(n) },
  };
}

export function formatGoVersion(v: GoVersion): string {
  let s = `${v.major}.${v.minor}`;
  if (v.patch !== null) s += `.${v.patch}`;
  if (v.pre !== null) s += `${v.pre.kind}${v.pre.n}`;
  return s;
}

const PRE_RANK: Record<GoPreKind, number> = { alpha: 0, beta: 1, rc: 2 };

/**
 * Order of published versions: 1.21rc1 < 1.21rc2 < 1.21.0 = 1.21 < 1.21.1 < 1.22beta1.
 * A missing patch counts as 0, which is right for installed SDKs (`go1.20` is 1.20.0).
 * Version *requirements* with no patch (a `go 1.21` line) are handled by `satisfiesMinimum`.
 */
export function compareGoVersions(a: GoVersion, b: GoVersion): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.pre !== null && b.pre === null) return -1;
  if (a.pre === null && b.pre !== null) return 1;
  if (a.pre !== null && b.pre !== null) {
    const ka = PRE_RANK[a.pre.kind];
    const kb = PRE_RANK[b.pre.kind];
    if (ka !== kb) return ka < kb ? -1 : 1;
    if (a.pre.n !== b.pre.n) return a.pre.n < b.pre.n ? -1 : 1;
    return 0;
  }
  const pa = a.patch ?? 0;
  const pb = b.patch ?? 0;
  return pa === pb ? 0 : pa < pb ? -1 : 1;
}

export function sameLine(a: GoVersion, b: GoVersion): boolean {
  return a.major === b.major && a.minor === b.minor;
}

/**
 * Whether an installed version meets a `go` line. `go 1.21` (no patch, no pre-release) is a
 * language version: every 1.21 toolchain accepts it, including 1.21rc2 (Go sorts `1.21`
 * before `1.21rc1`); callers prefer releases, so a pre-release only wins when no release
 * fits. `go 1.21.3` or `go 1.21rc2` are ordinary minimums.
 */
export function satisfiesMinimum(v: GoVersion, min: GoVersion): boolean {
  if (min.patch === null && min.pre === null) {
    return v.major > min.major || (v.major === min.major && v.minor >= min.minor);
  }
  return compareGoVersions(v, min) >= 0;
}

/** True when the line numbers go1.X.0 for its first release (1.21 and later). */
export function hasDotZeroReleases(v: GoVersion): boolean {
  return v.major > 1 || (v.major === 1 && v.minor >= 21);
}

/**
 * The golang.org/dl wrapper name that installs something matching `v`: an exact version
 * names itself; a bare line (`1.22`) names its first release (`go1.22.0`, or `go1.20`
 * before 1.21, when first releases had no `.0`).
 */
export function downloadName(v: GoVersion): string {
  if (v.pre !== null || v.patch !== null) return 'go' + formatGoVersion(v);
  return hasDotZeroReleases(v) ? `go${v.major}.${v.minor}.0` : `go${v.major}.${v.minor}`;
}

/**
 * The version in a GOROOT's VERSION file: its first line, `go1.22.12` (Debian's packages,
 * the official tarballs and the toolchain modules all write it so; later lines hold
 * `time ...`). Custom builds append words (`go1.21.3 X:boringcrypto`) or a suffix
 * (`go1.21.3-custom`); both are ignored. `devel ...` builds have no usable version: null.
 */
export function parseVersionFile(content: string): GoVersion | null {
  const first = content.split('\n', 1)[0]?.trim() ?? '';
  const m = /^go(\d+\.\d+(?:\.\d+)?(?:(?:alpha|beta|rc)\d+)?)(?:$|[\s+-])/.exec(first);
  if (m === null || m[1] === undefined) return null;
  return parseGoVersion(m[1]);
}
