import type { ErrorCode } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { shellWord } from './file-safety.js';

/**
 * Why the store cannot be trusted. `recover` says what `envd allow`/`deny` do about it:
 * - 'fresh': move the bad allowlist aside and start a new one;
 * - 'new-key': the key itself is damaged: move it (and the allowlist) aside, make a new key;
 * - 'refuse': do not touch anything; the message says what the user must do.
 */
export interface Problem {
  recover: 'fresh' | 'new-key' | 'refuse';
  /** The code of the EnvdError a change throws when it does not recover. */
  code: ErrorCode;
  /** One line, no `envd: ` prefix: what is wrong and how to recover. */
  message: string;
  /** Short form for the notice after a recovery. */
  reason: string;
}

const ALLOW_RECOVERS = 'run `envd allow` in a project to move it aside and start a new allowlist';

export function corrupt(file: string, reason: string): Problem {
  return { recover: 'fresh', code: 'ALLOWLIST_CORRUPT', reason, message: `the allowlist ${printable(file)} cannot be trusted: ${reason}; nothing is trusted until you ${ALLOW_RECOVERS}` };
}

export function wrongKey(file: string, keyFile: string): Problem {
  const reason = `it was signed with a different key than ${keyFile}`;
  return { recover: 'fresh', code: 'ALLOWLIST_KEY', reason, message: `the allowlist ${printable(file)} cannot be trusted: ${reason} (the key was replaced, or the file came from elsewhere); nothing is trusted until you ${ALLOW_RECOVERS}` };
}

export function keyMissing(file: string, keyFile: string): Problem {
  const reason = `its signing key ${keyFile} is missing`;
  return { recover: 'fresh', code: 'ALLOWLIST_KEY', reason, message: `the allowlist ${printable(file)} cannot be verified: ${reason}; nothing is trusted until you ${ALLOW_RECOVERS}` };
}

export function keyMalformed(keyFile: string): Problem {
  const reason = `the signing key ${keyFile} is damaged`;
  return { recover: 'new-key', code: 'ALLOWLIST_KEY', reason, message: `${reason}, so no approval can be verified; nothing is trusted until you run \`envd allow\` in a project to move the key and allowlist aside and start anew` };
}

export function newer(file: string, version: number): Problem {
  const reason = `it was written by a newer envd (format version ${version})`;
  return { recover: 'refuse', code: 'ALLOWLIST_CORRUPT', reason, message: `the allowlist ${printable(file)} cannot be read: ${reason}; upgrade envd (nothing is trusted meanwhile)` };
}

export function permissions(message: string): Problem {
  return { recover: 'refuse', code: 'ALLOWLIST_PERMISSIONS', reason: message, message };
}

export function unreadable(path: string, why: string): Problem {
  const message = `cannot read ${printable(path)} (${why}); nothing is trusted until it is readable by you: check ls -l ${shellWord(path)}`;
  return { recover: 'refuse', code: 'ALLOWLIST_PERMISSIONS', reason: message, message };
}
