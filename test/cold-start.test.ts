import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, parseJsonExport } from './helpers/sandbox.js';
import { until } from './helpers/processes.js';

// With no daemon, `envd export` and `envd exec` answer in-process and start the daemon in
// the background for the requests after them (src/cli/starting-service.ts): the answer is
// the one a daemon gives, a daemon answers shortly after, one only, and the start lock it
// was handed is gone once it listens.

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

function coldProject(envrc: string): { sb: Sandbox; dir: string } {
  const sb = new Sandbox();
  sandboxes.push(sb);
  const dir = sb.mkdir('p');
  sb.write('p/.envrc', envrc, 0o644);
  // Approved without starting a daemon.
  const a = sb.envd(['allow', dir], { env: { ENVD_NO_DAEMON: '1' } });
  expect(a.status, a.stderr).toBe(0);
  expect(existsSync(join(sb.runtimeDir, 'daemon.sock'))).toBe(false);
  return { sb, dir };
}

function daemonStatus(sb: Sandbox): { running: boolean; pid?: number } {
  return JSON.parse(sb.envd(['daemon', 'status', '--json']).stdout) as { running: boolean; pid?: number };
}

function readyLines(sb: Sandbox): number {
  const log = sb.path('home', '.local', 'state', 'envd', 'daemon.log');
  return existsSync(log) ? (readFileSync(log, 'utf8').match(/"msg":"daemon ready"/g) ?? []).length : 0;
}

describe('a cold start', () => {
  it('export answers in-process, then one daemon answers and holds no start lock', async () => {
    const { sb, dir } = coldProject('export COLD=1\n');
    const r = sb.envd(['export', 'json'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(parseJsonExport(r.stdout).COLD).toBe('1');
    expect(r.stderr).not.toContain('working without');
    expect(await until(() => daemonStatus(sb).running, 10_000)).toBe(true);
    expect(existsSync(join(sb.runtimeDir, 'daemon.lock'))).toBe(false);
    // The next one is the daemon's, and no second daemon was started.
    const again = sb.envd(['export', 'json'], { cwd: dir });
    expect(parseJsonExport(again.stdout).COLD).toBe('1');
    expect(readyLines(sb)).toBe(1);
  }, 30_000);

  it('ten at once: all answer, one daemon starts, no lock is left', async () => {
    const { sb, dir } = coldProject('export COLD_MANY=1\n');
    const all = await Promise.all(Array.from({ length: 10 }, () => sb.envdAsync(['export', 'json'], { cwd: dir })));
    for (const r of all) {
      expect(r.status, r.stderr).toBe(0);
      expect(parseJsonExport(r.stdout).COLD_MANY).toBe('1');
    }
    expect(await until(() => daemonStatus(sb).running, 10_000)).toBe(true);
    // Any second daemon would have said so in the log by now (it gives up at once).
    await new Promise((r) => setTimeout(r, 500));
    expect(readyLines(sb)).toBe(1);
    expect(existsSync(join(sb.runtimeDir, 'daemon.lock'))).toBe(false);
  }, 60_000);

  it('exec runs the command with the environment and leaves a daemon', async () => {
    const { sb, dir } = coldProject('export COLD_EXEC=yes\n');
    const r = sb.envd(['exec', dir, 'sh', '-c', 'echo "got $COLD_EXEC"']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('got yes\n');
    expect(await until(() => daemonStatus(sb).running, 10_000)).toBe(true);
  }, 30_000);

  it('past a budget the daemon takes the evaluation over: it runs once to its end there', async () => {
    // The .envrc notes each run that gets to its end.
    const { sb, dir } = coldProject(`sleep 1\necho done >> ${JSON.stringify(join('..', 'runs'))}\nexport SLOW_COLD=1\n`);
    const r = sb.envd(['export', 'json', '--budget', '100'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(parseJsonExport(r.stdout).SLOW_COLD).toBeUndefined();
    expect(r.stderr).toContain('still running');
    // Answered by the daemon it started, which finishes the evaluation: the next request
    // gets the result.
    expect(daemonStatus(sb).running).toBe(true);
    expect(await until(() => parseJsonExport(sb.envd(['export', 'json'], { cwd: dir }).stdout).SLOW_COLD === '1', 15_000)).toBe(true);
    // The evaluation in the CLI was ended: one run got to its end, the daemon's.
    expect(readFileSync(sb.path('runs'), 'utf8')).toBe('done\n');
  }, 30_000);
});
