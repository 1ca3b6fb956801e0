import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, parseJsonExport } from './helpers/sandbox.js';
import { killQuietly, processesWith, until } from './helpers/processes.js';

// Evaluations never outlive the daemon. An approved .envrc that starts a
// background `sleep` and then sleeps itself is running (answer `pending`) when the daemon
// is stopped, sent SIGTERM, or killed with SIGKILL: within a few seconds no process of
// that evaluation is left (found through /proc by a variable only that .envrc exports).

const sandboxes: Sandbox[] = [];
const marks: string[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
  // Whatever a failing test left behind does not outlive it either.
  for (const m of marks.splice(0)) for (const pid of processesWith('ENVD_LIFETIME_MARK', m)) killQuietly(pid);
});

/** A daemon evaluating a long .envrc: returns the sandbox, the daemon's pid and the mark. */
async function evaluating(): Promise<{ sb: Sandbox; pid: number; mark: string }> {
  const sb = new Sandbox();
  sandboxes.push(sb);
  const mark = randomBytes(8).toString('hex');
  marks.push(mark);
  const dir = sb.mkdir('p');
  sb.write('p/.envrc', `export ENVD_LIFETIME_MARK=${mark}\nsleep 1000 &\nsleep 1000\n`, 0o644);
  expect(sb.envd(['allow', dir]).status).toBe(0);
  const started = sb.envd(['daemon', 'start']);
  expect(started.status, started.stderr).toBe(0);
  const pid = Number(/pid (\d+)/.exec(started.stderr)?.[1]);
  const r = sb.envd(['export', 'json', '--budget', '100'], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  expect(parseJsonExport(r.stdout).ENVD_LIFETIME_MARK).toBeUndefined();
  // The two sleeps (bash's own /proc environ is the one it started with).
  expect(await until(() => processesWith('ENVD_LIFETIME_MARK', mark).length >= 2, 10_000)).toBe(true);
  return { sb, pid, mark };
}

describe('evaluations end with the daemon', () => {
  it('envd daemon stop', async () => {
    const { sb, mark } = await evaluating();
    expect(sb.envd(['daemon', 'stop']).status).toBe(0);
    expect(await until(() => processesWith('ENVD_LIFETIME_MARK', mark).length === 0, 5000)).toBe(true);
  }, 30_000);

  it('SIGTERM', async () => {
    const { pid, mark } = await evaluating();
    process.kill(pid, 'SIGTERM');
    expect(await until(() => processesWith('ENVD_LIFETIME_MARK', mark).length === 0, 5000)).toBe(true);
  }, 30_000);

  it('kill -9', async () => {
    const { pid, mark } = await evaluating();
    process.kill(pid, 'SIGKILL');
    expect(await until(() => processesWith('ENVD_LIFETIME_MARK', mark).length === 0, 5000)).toBe(true);
  }, 30_000);

  it('an evaluation that finished leaves nothing of envd behind, and the daemon stays', async () => {
    const sb = new Sandbox();
    sandboxes.push(sb);
    const mark = randomBytes(8).toString('hex');
    marks.push(mark);
    const dir = sb.mkdir('q');
    // `wait` in the file must not wait for envd's watcher.
    sb.write('q/.envrc', `export ENVD_LIFETIME_MARK=${mark}\nsleep 0.1 & wait\nexport DONE=1\n`, 0o644);
    expect(sb.envd(['allow', dir]).status).toBe(0);
    const r = sb.envd(['export', 'json'], { cwd: dir });
    expect(parseJsonExport(r.stdout).DONE, r.stderr).toBe('1');
    expect(await until(() => processesWith('ENVD_LIFETIME_MARK', mark).length === 0, 5000)).toBe(true);
  }, 30_000);
});
