import { statSync, type Stats } from 'node:fs';
import { userId } from '../config/paths.js';
import { quoteBash } from '../env/quote.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import { groupVerdict, myPrimaryGid } from './groups.js';
import { printable } from '../util/printable.js';

export type FileSafety = { ok: true } | { ok: false; message: string };

/**
 * How much the trust in a file depends on its content:
 * - `content`: approved content (a record's hash, or a sourced file recorded with it). An edit
 *   by anyone changes the hash and blocks the file, so permissions matter less.
 * - `none`: trusted whatever it says (a `[whitelist]` entry, or a sourced file under
 *   `[trust] sourced_files = "follow"`): whoever can write it decides what runs.
 */
export type TrustBinding = 'content' | 'none';

/**
 * Whether an env file (or a file it pulls in) may be evaluated at all, judged from the
 * fstat of the descriptor its bytes were read from (never a separate stat of the name,
 * which could be swapped in between). Messages are one line without the `envd: ` prefix and
 * name the command that fixes the problem.
 *
 * - It must be a regular file owned by you or root.
 * - Nobody else may be able to write it: not world-writable; group-writable only when the
 *   group is the owner's private group (the umask-002 default of desktops with user-private
 *   groups, see groups.ts).
 * - A group envd cannot judge (not in /etc/group: a directory service's) is accepted for
 *   approved content when it is your own primary group, since an edit by anyone else
 *   blocks the file anyway; where trust does not bind the content it is refused.
 */
export function judgeFile(path: string, st: Stats, binding: TrustBinding): FileSafety {
  const shown = printable(path);
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
  if (other) {
    return { ok: false, message: `refusing ${shown}: writable by every user; run: chmod ${group ? 'go-w' : 'o-w'} ${shellWord(path)}` };
  }
  if (!group) return { ok: true };
  const g = groupVerdict(st.uid, st.gid);
  if (g.kind === 'private') return { ok: true };
  if (g.kind === 'unknown') {
    if (binding === 'content' && st.uid === me && st.gid === myPrimaryGid()) return { ok: true };
    return { ok: false, message: `refusing ${shown}: writable by group ${g.group}, and envd cannot tell that only you are in it; run: chmod g-w ${shellWord(path)}` };
  }
  const who = g.others.length === 0 ? 'which is not your private group'
    : `whose other members (${g.others.slice(0, 5).join(', ')}${g.others.length > 5 ? ', ...' : ''}) can change it`;
  return { ok: false, message: `refusing ${shown}: writable by group ${g.group}, ${who}; run: chmod g-w ${shellWord(path)}` };
}

/**
 * The same judgement from a stat of the name, for callers that do not read the file
 * (reports). Whoever reads the file judges the descriptor instead (judgeFile).
 */
export function checkFileSafety(path: string, binding: TrustBinding = 'content'): FileSafety {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : errorMessage(err);
    return { ok: false, message: `refusing ${printable(path)}: cannot read it (${why})` };
  }
  return judgeFile(path, st, binding);
}

/**
 * Quote a path for a command the user may paste, only when it needs it. Control
 * characters and bytes that are not UTF-8 come out as `$'\xHH'`, never raw (the word is
 * printed in a message).
 */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./~-]+$/.test(s) ? s : quoteBash(s);
}
