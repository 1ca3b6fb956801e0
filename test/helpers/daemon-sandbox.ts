import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach } from 'vitest';
import { Sandbox, type Shell } from './sandbox.js';

/** A machine busy with other tests can take longer than the default budget (then the answer is "pending"). */
export const BUDGET = '[global]\nasync_budget = "8s"\n';

/**
 * A fresh sandbox per test with a generous async budget and its daemon running, for tests
 * that drive the hooks through the daemon; `hookFor` saves `envd hook SHELL` to a file to
 * source (a new name each time, so a test may load several). `use` gets each test's sandbox.
 */
export function daemonSandboxEachTest(use: (sb: Sandbox) => void): (shell: Shell) => string {
  let sb: Sandbox | undefined;
  beforeEach(() => {
    sb = new Sandbox();
    sb.write('home/.config/envd/envd.toml', BUDGET);
    const r = sb.envd(['daemon', 'start']);
    if (r.status !== 0) throw new Error(r.stderr);
    use(sb);
  });
  afterEach(() => sb?.cleanup());
  return (shell) => {
    if (sb === undefined) throw new Error('daemonSandboxEachTest: hookFor used outside a test');
    return sb.write(`hook-${shell}-${Math.random().toString(36).slice(2)}.${shell}`, sb.envd(['hook', shell]).stdout);
  };
}

/**
 * The generation number the daemon published in the sandbox's runtime dir. The daemon may
 * put an empty file in place for a moment before it writes the number (src/daemon/
 * generation.ts: a new length, a new inode); the hooks then ask once more, and so this
 * reads again rather than take the empty file for 0.
 */
export async function readGeneration(sb: Sandbox): Promise<number> {
  const file = join(sb.runtimeDir, 'generation');
  for (let i = 0; i < 200; i++) {
    const n = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isSafeInteger(n)) return n;
    await sleep(5);
  }
  throw new Error(`${file} held no number for a second`);
}
