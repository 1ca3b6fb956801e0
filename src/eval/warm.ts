import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBytes } from '../env/bytes.js';
import type { Env } from '../env/diff.js';
import { quoteBash } from '../env/quote.js';
import { STDLIB_DIR } from './stdlib.js';
import { keepRecent } from '../util/recent.js';

/**
 * The warm evaluator's rules (zygote.ts runs them). Starting bash and sourcing the stdlib
 * (~40 KB) is most of an evaluation of a small .envrc. In the daemon, a bash is started
 * ahead of time with an empty environment and `/` as cwd; it sources the stdlib and then
 * serves evaluations: for each request — directory and the full environment, as exact
 * bytes — it forks, and the fork becomes the evaluation. The server itself runs no user
 * code, so nothing one .envrc does (variables, functions, traps, options, cwd) can reach
 * the next.
 *
 * What a warm bash cannot reproduce goes the cold way (`warmRequest` returns null): names
 * bash reads when it starts or keeps for itself (BASH_ENV, SHELLOPTS, IFS, exported
 * functions, names that are not identifiers, ...), a SHLVL bash would not simply count up,
 * and NUL bytes (the cold spawn refuses them with its own error).
 */

/** `ENVD_WARM_EVAL=0` in the daemon's environment: every evaluation starts its own bash. */
export const WARM_SWITCH = 'ENVD_WARM_EVAL';

/**
 * Variables bash takes from its environment at start in its own way (sources, parses,
 * ignores, keeps read-only or dynamic), so an `export` later is not the same thing.
 */
const STARTUP_NAMES = new Set([
  'BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'POSIXLY_CORRECT', 'IFS', 'PS4', 'EUID', 'UID', 'PPID',
  'BASHPID', 'BASH', 'BASH_ARGV0', 'BASH_ARGC', 'BASH_ARGV', 'BASH_COMMAND', 'BASH_LINENO', 'BASH_SOURCE',
  'BASH_SUBSHELL', 'BASH_VERSINFO', 'BASH_VERSION', 'BASH_COMPAT', 'BASH_XTRACEFD', 'BASH_LOADABLES_PATH',
  'FUNCNAME', 'GROUPS', 'HISTCMD', 'DIRSTACK', 'PIPESTATUS', 'LINENO', 'RANDOM', 'SRANDOM', 'SECONDS',
  'EPOCHSECONDS', 'EPOCHREALTIME', 'OPTIND', 'OPTERR', 'HOSTTYPE', 'MACHTYPE', 'OSTYPE', 'COMP_WORDBREAKS',
  'GLOBIGNORE', 'TMOUT', 'CDPATH',
  // Set from the request's own fields (see WARM_APPLY).
  'PWD', 'OLDPWD', 'SHLVL',
]);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Values as quoteBash writes them, kept: every evaluation's environment is mostly the same
 * strings (a shell's own variables, the same objects from one request to the next), and
 * quoting them again was a third of building the request. Bounded; small values only.
 */
const quotedValues = new Map<string, string>();

function quoted(value: string): string {
  let q = quotedValues.get(value);
  if (q === undefined) {
    q = quoteBash(value);
    if (value.length <= 4096) {
      keepRecent(quotedValues, value, q, 1024);
    }
  }
  return q;
}

/**
 * The request for a fork server, or null when this environment needs a bash of its own. It
 * is bash code the server reads at once (zygote.ts sends its length first: `read` takes a
 * pipe one byte at a time unless told how many, ~9000 system calls for a usual environment
 * with NUL-separated fields, a dozen this way) and its evaluation evals: assignments of words
 * quoted by quoteBash, so values arrive exactly, not-UTF-8 ones included (read in the C
 * locale). Names are identifiers, checked here; a NUL or a value quoteBash cannot write
 * gets a bash of its own.
 */
export function warmRequest(dir: string, env: Env): Buffer | null {
  // bash counts SHLVL up from a plain number; anything else it reads its own way.
  const lvl = env.SHLVL;
  let shlvl = 1;
  if (lvl !== undefined) {
    if (!/^[0-9]{1,3}$/.test(lvl) || Number(lvl) + 1 >= 1000) return null;
    shlvl = Number(lvl) + 1;
  }
  const head = [dir, env.PWD ?? '', env.OLDPWD ?? ''];
  if (head.some((w) => w.includes('\0'))) return null;
  let text: string;
  try {
    // One pass over the names, building the assignments as it checks them (this runs at
    // every evaluation, in a daemon without an optimizing compiler: no arrays of pairs).
    let assigns = '';
    const names = Object.keys(env);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] ?? '';
      if (name === 'PWD' || name === 'OLDPWD' || name === 'SHLVL') continue;
      // __envd_w_*: WARM_APPLY's own names, which the request must not clobber.
      if (!IDENT.test(name) || STARTUP_NAMES.has(name) || name.startsWith('__envd_w_')) return null;
      const value = env[name] ?? '';
      if (value.includes('\0')) return null;
      assigns += ` ${name}=${quoted(value)}`;
    }
    const [qdir, qpwd, qold] = head.map((w) => quoteBash(w));
    text = `__envd_w_dir=${qdir ?? "''"} __envd_w_pwd=${qpwd ?? "''"} __envd_w_oldset=${env.OLDPWD === undefined ? 0 : 1} __envd_w_old=${qold ?? "''"} __envd_w_lvl=${shlvl}\n`
      // One `export` of every variable (a loop would run three commands a variable), in a
      // function WARM_APPLY calls once the directory and bash's own variables are set.
      + `__envd_w_put() { ${assigns !== '' ? `builtin export${assigns}` : ':'}; }\n`;
  } catch {
    return null; // a value quoteBash cannot write (a surrogate that is no byte)
  }
  // A byte string (src/env/bytes.ts): back to the exact bytes.
  return encodeBytes(text);
}


/**
 * What an evaluation forked from a fork server (zygote.ts) runs between the request read
 * by the server and the bootstrap: eval the request (still in the C locale the server
 * reads in, so every byte is a character), drop the three variables bash exported at start
 * (nothing else is in its environment), enter the directory and export exactly the
 * request's environment. `__envd_onload` lists stdlib functions that copy settings from
 * the environment at load time; they run again now that it is the right one. Variables of
 * its own are unset before any extension or user code runs.
 */
export const WARM_APPLY = String.raw`
eval "$__envd_w_req"
unset __envd_w_len __envd_w_req
[[ -n ${'$'}{__envd_w_dir-} ]] || exit 1
unset LC_ALL PWD OLDPWD SHLVL
builtin cd -- "$__envd_w_dir" || exit 1
# As bash at start: an inherited PWD that names the directory is kept, else the real path.
if [[ $__envd_w_pwd == /* && $__envd_w_pwd -ef . ]]; then PWD=$__envd_w_pwd; else builtin cd -P . || exit 1; fi
export PWD
unset OLDPWD
if [[ $__envd_w_oldset == 1 ]]; then export OLDPWD="$__envd_w_old"; else export OLDPWD; fi
export SHLVL="$__envd_w_lvl"
__envd_w_put
unset -f __envd_w_put
unset __envd_w_dir __envd_w_pwd __envd_w_oldset __envd_w_old __envd_w_lvl
SECONDS=0
for __envd_w_f in "${'$'}{__envd_onload[@]}"; do "$__envd_w_f"; done
unset __envd_w_f
`;

/**
 * Which warm bash fits: the bash and the stdlib it read (each file's name, inode, size and
 * modification time; an upgrade in place or an edit changes one). Extensions are not in
 * it: every evaluation sources them itself, after its environment is set, as a cold one
 * does, so an edit is seen at the next evaluation without restarting anything.
 */
export function warmKey(bashPath: string): string {
  // Read at most once a second: a stdlib upgraded in place is seen within that, and an
  // evaluation does not pay for a directory listing and a dozen stat calls.
  const now = Date.now();
  if (lastKey !== null && lastKey.bash === bashPath && now - lastKey.at < KEY_TTL_MS) return lastKey.key;
  const parts = [bashPath];
  try {
    for (const f of readdirSync(STDLIB_DIR).filter((n) => n.endsWith('.sh')).sort()) {
      const st = statSync(join(STDLIB_DIR, f), { bigint: true });
      parts.push(`${f}:${st.ino}:${st.size}:${st.mtimeNs}`);
    }
  } catch {
    parts.push(`unreadable:${now}`);
  }
  const key = parts.join('\0');
  lastKey = { bash: bashPath, at: now, key };
  return key;
}

const KEY_TTL_MS = 1000;
let lastKey: { bash: string; at: number; key: string } | null = null;
