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
