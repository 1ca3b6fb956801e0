import { statSync } from 'node:fs';
import { userId } from '../config/paths.js';
import { quoteBash } from '../env/quote.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import { printable } from '../util/printable.js';

export type FileSafety = { ok: true } | { ok: false; message: string };

/**
 * Whether an env file may be evaluated at all, before its hash is even looked up:
 * it must be a regular file owned by the current user (or root) and not writable by group
 * or others. Anyone who can write the file could change what runs in your shell; the hash
 * check would then block it, but a file others can write is a standing invitation, so it is
 * refused outright, with the command that fixes it.
 *
 * Messages are one line without the `envd: ` prefix.
 */
export function checkFileSafety(path: string): FileSafety {
  const shown = printable(path);
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : errorMessage(err);
    return { ok: false, message: `refusing ${shown}: cannot read it (${why})` };
  }
  if (!st.isFile()) {
    return { ok: false, message: `refusing ${shown}: not a regular file; an env file must be a plain file` };
  }
  const me = userId();
  if (st.uid !== me && st.uid !== 0) {
    return {
      ok: false,
      message: `refusing ${shown}: owned by uid ${st.uid}, not by you (uid ${me}) or root; take a copy you own, or have it chowned to you`,
    };
  }
  const group = (st.mode & 0o020) !== 0;
  const other = (st.mode & 0o002) !== 0;
  if (group || other) {
    const who = group && other ? 'group and others' : group ? 'its group' : 'others';
    return { ok: false, message: `refusing ${shown}: writable by ${who}; run: chmod go-w ${shellWord(path)}` };
  }
  return { ok: true };
}

/**
 * Quote a path for a command the user may paste, only when it needs it. Control
 * characters and bytes that are not UTF-8 come out as `$'\xHH'`, never raw (the word is
 * printed in a message).
 */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./~-]+$/.test(s) ? s : quoteBash(s);
}
