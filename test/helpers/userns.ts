import { spawnSync } from 'node:child_process';

/**
 * A real inotify limit for one daemon: in a user namespace of its own (unshare -U -r), the
 * kernel (5.11+) keeps a separate `max_inotify_watches` that the namespace's root may set,
 * so ENOSPC can be produced, and lifted, without touching the machine's own limit.
 */
export function canLimitInotify(): boolean {
  const r = spawnSync('unshare', ['-U', '-r', 'sh', '-c', 'echo 1 > /proc/sys/user/max_inotify_watches'], { stdio: 'ignore' });
  const ok = r.status === 0;
  if (!ok) process.stderr.write('[envd tests] SKIPPED: no user namespaces with their own inotify limit here (unshare -U -r); the real-ENOSPC watcher tests are skipped\n');
  return ok;
}

/** argv that runs `cmd args...` with at most `limit` inotify watches. */
export function withInotifyLimit(limit: number, cmd: string, args: string[]): [string, string[]] {
  return ['unshare', ['-U', '-r', 'sh', '-c', `echo ${limit} > /proc/sys/user/max_inotify_watches && exec "$@"`, 'sh', cmd, ...args]];
}

/** Set the inotify limit of the user namespace process `pid` runs in. */
export function setInotifyLimit(pid: number, limit: number): void {
  const r = spawnSync('nsenter', ['-t', String(pid), '-U', 'sh', '-c', `echo ${limit} > /proc/sys/user/max_inotify_watches`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot set the inotify limit of ${pid}: ${r.stderr}`);
}
