import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { say, sayMessages, usage } from './command.js';
import { processEnv } from './env.js';
import { openService } from './service.js';

/** `envd exec DIR CMD [ARGS...]`: run CMD with DIR's environment; exits with its status. */
export async function run(args: string[]): Promise<number> {
  const [dir, cmd, ...rest] = args;
  if (dir === undefined || cmd === undefined) return usage("exec needs a directory and a command: 'envd exec DIR CMD [ARGS...]'");
  // A mistyped DIR must not quietly run the command with some other directory's (or no)
  // environment: CI scripts rely on the exit status.
  const st = statSync(resolve(dir), { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) {
    say(`envd: exec: ${dir} ${st === undefined ? 'does not exist' : 'is not a directory'}; not running ${cmd}`);
    return 1;
  }
  const service = await openService();
  const env = processEnv();
  let outcome;
  try {
    outcome = await service.export({ cwd: resolve(dir), env }, { budgetMs: Infinity });
  } finally {
    await service.close();
  }
  sayMessages(outcome.messages);
  if (outcome.kind === 'blocked' || outcome.kind === 'denied' || outcome.kind === 'failed') {
    say(`envd: not running ${cmd}: the environment of ${dir} is not available`);
    return 1;
  }
  for (const n of outcome.change.unset) delete env[n];
  for (const [n, v] of Object.entries(outcome.change.set)) env[n] = v;
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, rest, { stdio: 'inherit', env });
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward);
    child.on('error', (err) => {
      say(`envd: cannot run ${cmd}: ${err.message}`);
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
