import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { readRegularFile } from '../util/safe-read.js';

/**
 * Who can write a file through its group: is the group the owner's own private group?
 *
 * Ubuntu and Fedora desktops give each user a group of their own and a umask of 002, so
 * every file a user makes is group-writable by a group only they are in. Debian's OpenSSH
 * accepts a group-writable `~/.ssh` on the same judgement. A group is the owner's private
 * group when it is the owner's primary group and nobody else is in it: no other account
 * has it as primary group and its member list names nobody but the owner.
 *
 * Read from /etc/passwd and /etc/group (through the safe reader, re-read when either file
 * changes), never by starting a process: this runs on the daemon's request path. Accounts
 * that only a directory service knows (LDAP, sssd) are not in those files: the owner's own
 * entry then comes from the C library (os.userInfo, which asks NSS), and a group that is not
 * in /etc/group is `unknown`.
 */
export type GroupVerdict =
  | { kind: 'private' }
  /** Others can write through it: `others` names them (empty: a group nobody is in, whose
   *  rights go to whatever process runs with it, e.g. a setgid program). */
  | { kind: 'shared'; group: string; others: string[] }
  | { kind: 'unknown'; group: string };

interface Account { name: string; uid: number; gid: number }
interface Group { name: string; gid: number; members: string[] }
interface Db { stamp: string; users: Account[]; groups: Group[] }

const PASSWD = '/etc/passwd';
const GROUP = '/etc/group';
/** Far above any real account database kept in files. */
const MAX_DB_BYTES = 16 * 1024 * 1024;

let cached: Db | null = null;

function stampOf(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined ? '-' : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

function readLines(path: string): string[] {
  try {
    return readRegularFile(path, MAX_DB_BYTES).bytes.toString('utf8').split('\n');
  } catch {
    return [];
  }
}

/** Lines `name:x:...`; NIS's `+`/`-` lines and comments name no account. */
function fields(line: string): string[] | null {
  if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) return null;
  return line.split(':');
}

function load(): Db {
  const stamp = `${stampOf(PASSWD)}|${stampOf(GROUP)}`;
  if (cached !== null && cached.stamp === stamp) return cached;
  const users: Account[] = [];
  for (const line of readLines(PASSWD)) {
    const f = fields(line);
    if (f === null || f.length < 4) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (f[0] !== undefined && Number.isSafeInteger(uid) && Number.isSafeInteger(gid)) users.push({ name: f[0], uid, gid });
  }
  const groups: Group[] = [];
  for (const line of readLines(GROUP)) {
    const f = fields(line);
    if (f === null || f.length < 4) continue;
    const gid = Number(f[2]);
    const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
    if (f[0] !== undefined && Number.isSafeInteger(gid)) groups.push({ name: f[0], gid, members });
  }
  cached = { stamp, users, groups };
  return cached;
}

let me: Account | null | undefined;

/** The current user as the C library knows them (NSS included); null if it cannot say. */
function currentAccount(): Account | null {
  if (me === undefined) {
    try {
      const u = userInfo();
      me = { name: u.username, uid: u.uid, gid: u.gid };
    } catch {
      me = null;
    }
  }
  return me;
}

/** Whether the group `gid` of a file owned by `ownerUid` is that owner's private group. */
export function groupVerdict(ownerUid: number, gid: number): GroupVerdict {
  const db = load();
  const group = db.groups.find((g) => g.gid === gid);
  const name = group?.name ?? String(gid);
  const self = currentAccount();
  const owner = db.users.find((u) => u.uid === ownerUid) ?? (self !== null && self.uid === ownerUid ? self : undefined);
  if (group === undefined || owner === undefined) return { kind: 'unknown', group: name };
  const others = new Set<string>();
  for (const u of db.users) if (u.gid === gid && u.uid !== ownerUid) others.add(u.name);
  for (const m of group.members) if (m !== owner.name) others.add(m);
  if (owner.gid === gid && others.size === 0) return { kind: 'private' };
  return { kind: 'shared', group: name, others: [...others].sort() };
}

/** The current user's primary group id as the C library knows it (NSS included). */
export function myPrimaryGid(): number | null {
  return currentAccount()?.gid ?? null;
}
