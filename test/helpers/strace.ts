import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/**
 * The no-fork prompt tests' tools: whether strace can trace here, and the process calls
 * (clone, fork, exec) in a trace it wrote.
 */
export const haveStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0
  && spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-o', '/dev/null', 'true']).status === 0;
if (!haveStrace) process.stderr.write('[envd tests] SKIPPED: strace is not usable here; the no-fork prompt tests are skipped (apt-get install -y strace)\n');

const PROCESS_CALL = /\b(clone3?|v?fork|execve(at)?)\(/;

/** New processes and execs; threads (fish's own I/O and highlighting pool) are not processes. */
export function processCalls(trace: string): string[] {
  if (!existsSync(trace)) return [];
  return readFileSync(trace, 'utf8').split('\n').filter((l) => PROCESS_CALL.test(l) && !l.includes('CLONE_THREAD'));
}

/** Time for a prompt's work to finish before the trace is read. */
export async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
}
