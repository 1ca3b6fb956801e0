import { compareSemver } from '../util/semver.js';

/**
 * Which of two envd installations keeps the daemon. Two versions installed side by side
 * (a system package and a user one, an old shell rc pointing at an old path) must not
 * replace each other's daemon back and forth: only the newer one replaces the older,
 * so the daemon is replaced at most once.
 *
 * Versions are ordered like semver (numeric `MAJOR.MINOR.PATCH...`, a pre-release below its
 * release), then by protocol, and finally by plain string order, so that any two different
 * (version, protocol) pairs are ordered one way and the same way on both sides.
 */

/** -1, 0 or 1 as `a` is older than, the same as, or newer than `b`. A total order. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const d = compareSemver(a, b);
  if (d !== 0 || a === b) return d;
  // Equal by semver (build metadata, `v` prefix): still two different strings.
  return a < b ? -1 : 1;
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

export interface Speaker {
  version: string;
  protocol: number;
}

/** -1, 0 or 1 as this client is older than, the same as, or newer than the daemon. */
export function compareSpeakers(client: Speaker, daemon: Speaker): -1 | 0 | 1 {
  const v = compareVersions(client.version, daemon.version);
  if (v !== 0) return v;
  return sign(client.protocol - daemon.protocol);
}
