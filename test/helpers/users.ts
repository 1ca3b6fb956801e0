import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './sandbox.js';
import { runSync, which } from './sandbox.js';

// Users run envd as themselves, on desktops with umask 002, often without
// XDG_RUNTIME_DIR, sometimes under LANG=C; and the attacker in the trust model is another
// local user. CI and sessions run as root, so tests that mean to prove something for a
// normal user either run the real binary as one (setpriv, from a root test process) or
// run whole files as one (scripts/test-as-user.sh sets ENVD_TEST_PASS=user and starts
// vitest under that account).

/** The normal user the suite acts as; .ci/run creates it with a user-private group. */
export const TEST_USER = process.env.ENVD_TEST_USER ?? 'envdtest';
/** The other local user, the attacker. */
export const ATTACKER = 'nobody';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** True in the pass that runs test files as a normal user (scripts/test-as-user.sh). */
export const USER_PASS = process.env.ENVD_TEST_PASS === 'user';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function account(name: string): Account | null {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Whether this process can act as TEST_USER and as ATTACKER (it is root, setpriv exists,
 * both accounts exist). With ENVD_REQUIRE_USERS=1 (set by .ci/run) a root process that
 * cannot is a failure, not a skip.
 */
export function canSwitchUsers(): boolean {
  if (!isRoot()) return false;
  const ok = which('setpriv') !== null && account(TEST_USER) !== null && account(ATTACKER) !== null;
  if (!ok && process.env.ENVD_REQUIRE_USERS === '1') {
    throw new Error(`ENVD_REQUIRE_USERS=1 but setpriv, user ${TEST_USER} or ${ATTACKER} is missing: useradd --create-home --user-group ${TEST_USER}`);
  }
  if (!ok) process.stderr.write(`[envd tests] SKIPPED: tests that act as ${TEST_USER} and ${ATTACKER} (create ${TEST_USER} with useradd --user-group, run as root)\n`);
  return ok;
}

export function mustAccount(name: string): Account {
  const a = account(name);
  if (a === null) throw new Error(`no account ${name}`);
  return a;
}

export interface AsUserOptions {
  cwd?: string;
  /** The whole environment of the command (nothing is inherited). */
  env: Record<string, string>;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Default 0o002: a desktop's user-private-group umask. */
  umask?: number;
}

/** argv that runs `cmd args` as `who` with its own groups and the umask set. */
export function asUserArgv(who: Account, cmd: string, args: string[], umask = 0o002): [string, string[]] {
  return ['setpriv', [
    `--reuid=${who.uid}`, `--regid=${who.gid}`, '--init-groups', '--',
    '/bin/sh', '-c', `umask ${umask.toString(8).padStart(3, '0')} && exec "$@"`, 'sh', cmd, ...args,
  ]];
}

/** Run a command as another user and wait for it. */
export function runAs(who: Account, cmd: string, args: string[], opts: AsUserOptions): RunResult {
  const [c, a] = asUserArgv(who, cmd, args, opts.umask);
  return runSync(c, a, { cwd: opts.cwd ?? '/', env: opts.env, input: opts.input, timeoutMs: opts.timeoutMs });
}

/** Start a command as another user (a listener, a shell in tmux...). */
export function spawnAs(who: Account, cmd: string, args: string[], opts: Omit<AsUserOptions, 'input' | 'timeoutMs'>): ChildProcess {
  const [c, a] = asUserArgv(who, cmd, args, opts.umask);
  return spawn(c, a, { cwd: opts.cwd ?? '/', env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** chown -R without following symlinks. */
export function chownTree(path: string, who: Account): void {
  const st = lstatSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) chownTree(join(path, name), who);
  }
  if (st.isSymbolicLink()) return;
  chownSync(path, who.uid, who.gid);
}
