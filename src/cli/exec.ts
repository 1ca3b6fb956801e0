import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { hasRawBytes } from '../env/bytes.js';
import type { Env } from '../env/diff.js';
import { newNameMap } from '../env/map.js';
import { quoteBash } from '../env/quote.js';
import { printable } from '../util/printable.js';
import { say, sayMessages, usage } from './command.js';
import { logicalCwd, processEnv } from './env.js';
import { openService } from './service.js';

/**
 * Node writes a child's environment as UTF-8, so a value that is not UTF-8 (a byte string,
 * src/env/bytes.ts) cannot be given to spawn as it is. When there is one, bash starts
 * first, exports those values from `$'\xHH'`-quoted text with builtins and execs the
 * command: the command gets the exact bytes. (PWD and SHLVL, which bash changes, are set
 * back too; a SHLVL that was unset arrives as 0.)
 */
const EXEC_SCRIPT = 'eval "$__ENVD_EXEC"; unset __ENVD_EXEC; exec -- "$@"';

function bashOnPath(env: Env): string {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (!dir.startsWith('/') || hasRawBytes(dir)) continue;
    try {
      accessSync(join(dir, 'bash'), constants.X_OK);
      return join(dir, 'bash');
    } catch { /* next */ }
  }
  return '/bin/bash';
}

function spawnArgs(cmd: string, rest: string[], env: Env): { file: string; args: string[]; env: Env } {
  const raw = Object.keys(env).filter((n) => hasRawBytes(env[n] ?? '') && /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  if (raw.length === 0) return { file: cmd, args: rest, env };
  const plain: Env = newNameMap();
  for (const [n, v] of Object.entries(env)) if (!hasRawBytes(v) && !hasRawBytes(n)) plain[n] = v;
  const restore = [...raw, ...['PWD', 'SHLVL'].filter((n) => env[n] !== undefined && !raw.includes(n))];
  // bash's `exec` lowers SHLVL by one on the way out: one more here gives back the value.
  const valueOf = (n: string): string => (n === 'SHLVL' && /^[0-9]{1,9}$/.test(env[n] ?? '') ? String(Number(env[n]) + 1) : env[n] ?? '');
  plain.__ENVD_EXEC = restore.map((n) => `export ${n}=${quoteBash(valueOf(n))};`).join(' ');
  return { file: bashOnPath(env), args: ['--noprofile', '--norc', '-c', EXEC_SCRIPT, 'envd-exec', cmd, ...rest], env: plain };
}

/** `envd exec DIR CMD [ARGS...]`: run CMD with DIR's environment; exits with its status. */
export async function run(args: string[]): Promise<number> {
  const [dir, cmd, ...rest] = args;
  if (dir === undefined || cmd === undefined) return usage("exec needs a directory and a command: 'envd exec DIR CMD [ARGS...]'");
  // A mistyped DIR must not quietly run the command with some other directory's (or no)
  // environment: CI scripts rely on the exit status.
  const target = isAbsolute(dir) ? dir : resolve(logicalCwd(), dir);
  const st = statSync(target, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) {
    say(`envd: exec: ${printable(dir)} ${st === undefined ? 'does not exist' : 'is not a directory'}; not running ${printable(cmd)}`);
    return 1;
  }
  const service = await openService({ inProcessWhileStarting: true });
  const env = processEnv();
  let outcome;
  try {
    outcome = await service.export({ cwd: target, env }, { budgetMs: Infinity });
  } finally {
    await service.close();
  }
  sayMessages(outcome.messages);
  if (outcome.kind === 'blocked' || outcome.kind === 'denied' || outcome.kind === 'failed') {
    say(`envd: not running ${printable(cmd)}: the environment of ${printable(dir)} is not available`);
    return 1;
  }
  for (const n of outcome.change.unset) delete env[n];
  for (const [n, v] of Object.entries(outcome.change.set)) env[n] = v;
  return new Promise((resolvePromise) => {
    const how = spawnArgs(cmd, rest, env);
    const child = spawn(how.file, how.args, { stdio: 'inherit', env: how.env });
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward);
    child.on('error', (err) => {
      say(`envd: cannot run ${printable(cmd)}: ${printable(err.message)}`);
      resolvePromise(127);
    });
    child.on('exit', (code, signal) => {
      resolvePromise(code ?? (signal !== null ? 128 + signalNumber(signal) : 1));
    });
  });
}

function signalNumber(sig: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return table[sig] ?? 1;
}
