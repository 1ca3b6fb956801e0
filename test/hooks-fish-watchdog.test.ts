import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, Sandbox, haveShell, haveTool, procState } from './helpers/sandbox.js';
import { TmuxShell, haveTmux } from './helpers/tmux.js';

/**
 * fish's FIFO transport (shells/fish/hook.fish, "ask"): fish has no read timeout and Ctrl-C
 * does not interrupt its `read` from a pipe, so each shell has a watchdog (one bash,
 * started with the shell's FIFO pair) that answers on `.res` when the daemon cannot. A
 * real interactive fish in tmux, a real daemon: stopped (SIGSTOP, with an environment
 * bigger than a pipe holds), killed, and slower than the user wants to wait (Ctrl-C).
 */

const STEP_MS = 20_000;
const tmuxOk = haveTmux();


async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not in time`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const count = (haystack: string, needle: string): number => haystack.split(needle).length - 1;

/** The watchdogs: processes whose command line names fish's pid as the watchdog's. */
function watchdogsOf(fishPid: number): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('envd-fish-watchdog');
      if (i > 0 && argv[i + 1] === String(fishPid) && procState(Number(d)) !== 'Z') pids.push(Number(d));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

/** The watchdog's bash program, as the hook holds it (between `set -g _envd_wsrc '` and `'`). */
function watchdogSource(): string {
  const hook = readFileSync(join(ROOT, 'shells/fish/hook.fish'), 'utf8');
  const m = /^set -g _envd_wsrc '([^']*)'$/m.exec(hook);
  if (m?.[1] === undefined) throw new Error('no watchdog source in hook.fish');
  return m[1];
}

describe('fish watchdog: its program', () => {
  it('has no quote or backslash that fish would read inside its string, and passes shellcheck', () => {
    const src = watchdogSource();
    expect(src).not.toMatch(/[\\']/);
    if (!haveTool('shellcheck')) return;
    const r = spawnSync('shellcheck', ['--shell=bash', '-'], { input: src, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe.runIf(tmuxOk && haveShell('fish'))('fish: the watchdog keeps the prompt', () => {
  let sb: Sandbox;
  let t: TmuxShell;
  let A: string; let S: string; let out: string;
  let fishPid = 0;

  const daemonPid = (): number => Number(readFileSync(join(sb.runtimeDir, 'hook.pid'), 'utf8').trim());
  const pairFiles = (): string[] => readdirSync(join(sb.runtimeDir, 'sh')).filter((n) => n.startsWith(`${fishPid}-`) && !n.endsWith('.stamp'));
  const responding = (): boolean => sb.envd(['daemon', 'status', '--json']).stdout.includes('"responding": true');

  beforeAll(async () => {
    sb = new Sandbox();
    out = sb.mkdir('out');
    A = sb.mkdir('A');
    S = sb.mkdir('S');
    sb.write('A/.envrc', 'export A_VAR=a\n');
    sb.write('delay', '0');
    sb.write('S/.envrc', `: > ${sb.path('S', 'started')}\nsleep "$(cat ${sb.path('delay')})"\nexport S_VAR=s\n`);
    for (const d of [A, S]) expect(sb.envd(['allow', d]).status).toBe(0);
    const hookFile = sb.write('hook.fish', sb.envd(['hook', 'fish']).stdout);
    t = await TmuxShell.start({ shell: 'fish', sandbox: sb, hookFile, cwd: out });
    const pidFile = sb.path('fish.pid');
    t.type(`echo $fish_pid > ${pidFile}`);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), STEP_MS, 'fish pid');
    fishPid = Number(readFileSync(pidFile, 'utf8').trim());
    // The first request starts the daemon (through `envd export`); the next ones go over the pair.
    expect((await t.run(`cd ${A}`, STEP_MS)).A_VAR).toBe('a');
    expect((await t.run(`cd ${out}`, STEP_MS)).A_VAR).toBeUndefined();
    expect((await t.run(`cd ${A}`, STEP_MS)).A_VAR).toBe('a');
  }, 60_000);

  afterAll(() => {
    t?.close();
    sb?.cleanup();
  });

  it('one watchdog for the shell, holding its pair: requests need no other process', () => {
    expect(watchdogsOf(fishPid)).toHaveLength(1);
    const files = pairFiles();
    expect(files.map((n) => n.slice(n.lastIndexOf('.'))).sort()).toEqual(['.out', '.req', '.res', '.wd']);
    for (const n of files.filter((f) => !f.endsWith('.out'))) {
      const st = statSync(join(sb.runtimeDir, 'sh', n));
      expect(st.isFIFO()).toBe(true);
      expect(st.mode & 0o777).toBe(0o600);
    }
    // The last answer came this way.
    expect(readFileSync(join(sb.runtimeDir, 'sh', files.find((f) => f.endsWith('.out')) ?? ''), 'latin1')).toContain('A_VAR');
  });

  it('daemon stopped (SIGSTOP), with an environment bigger than a pipe holds: the prompt comes back, nothing changed, one line says so', async () => {
    // 200 KB exported (in two: one string over 128 KiB cannot be passed to a command):
    // the request cannot fit in the FIFO while nobody reads it.
    await t.run('set -gx BIG_ENV1 (string repeat -n 100000 x); set -gx BIG_ENV2 $BIG_ENV1', STEP_MS);
    const pid = daemonPid();
    process.kill(pid, 'SIGSTOP');
    await until(() => procState(pid) === 'T', 5000, 'daemon stopped');
    try {
      const before = count(t.screen(), 'did not answer');
      // A hung prompt never writes its dump: the step's own limit is the test. Without its
      // leave plan (which would leave without asking), the shell asks the stopped daemon.
      const e = await t.run(`set -g _envd_pn; cd ${out}`, STEP_MS);
      expect(e.A_VAR).toBe('a');
      expect(e.PWD).toBe(out);
      expect(count(t.screen(), 'did not answer') - before).toBe(1);
      // And again: no second warning, the prompt still comes back.
      expect((await t.run(`cd ${A}`, STEP_MS)).PWD).toBe(A);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(responding, 15_000, 'daemon responding');
    await t.run('set -e BIG_ENV1 BIG_ENV2', STEP_MS);
    expect((await t.run(`cd ${out}`, STEP_MS)).A_VAR).toBeUndefined();
    expect((await t.run(`cd ${A}`, STEP_MS)).A_VAR).toBe('a');
    expect(watchdogsOf(fishPid)).toHaveLength(1);
  }, 90_000);

  it('daemon killed: the next prompt uses the CLI (which starts a daemon), the one after talks to the new daemon over the pair', async () => {
    const old = daemonPid();
    const before = count(t.screen(), 'did not answer');
    process.kill(old, 'SIGKILL');
    await until(() => procState(old) === null || procState(old) === 'Z', 5000, 'daemon gone');
    // Without its leave plan (which would leave without asking), the shell asks.
    expect((await t.run(`set -g _envd_pn; cd ${out}`, STEP_MS)).A_VAR).toBeUndefined();
    await until(() => existsSync(join(sb.runtimeDir, 'hook.pid')) && daemonPid() !== old, STEP_MS, 'a new daemon');
    const outFile = join(sb.runtimeDir, 'sh', pairFiles().find((f) => f.endsWith('.out')) ?? '');
    writeFileSync(outFile, '');
    expect((await t.run(`cd ${A}`, STEP_MS)).A_VAR).toBe('a');
    expect(readFileSync(outFile, 'latin1')).toContain('A_VAR');
    expect(count(t.screen(), 'did not answer')).toBe(before);
  }, 60_000);

  it('Ctrl-C while the daemon works gets the prompt back at once; the result applies once the evaluation is done', async () => {
    // A budget longer than the test: only the watchdog can end this wait.
    sb.write('home/.config/envd/envd.toml', '[global]\nasync_budget = "60s"\n');
    sb.write('delay', '4');
    // Two answers carry the new budget to the hook (it waits by the last `w` it got); the
    // leaves ask too (no leave plan).
    await t.run(`set -g _envd_pn; cd ${out}`, STEP_MS);
    await t.run(`cd ${A}`, STEP_MS);
    await t.run(`set -g _envd_pn; cd ${out}`, STEP_MS);
    const started = sb.path('S', 'started');
    t.type(`cd ${S}`);
    await until(() => existsSync(started), STEP_MS, 'evaluation started');
    spawnSync('tmux', ['-S', t.socket, 'send-keys', '-t', 't', 'C-c'], { env: sb.env });
    const e = await t.dump(STEP_MS);
    expect(e.S_VAR).toBeUndefined();
    expect(e.PWD).toBe(S);
    expect(count(t.screen(), 'envd: interrupted')).toBe(1);
    // Held while it runs (said once); applied at a prompt once it has finished.
    let applied = false;
    const end = Date.now() + STEP_MS;
    while (!applied && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 500));
      applied = (await t.run('', STEP_MS)).S_VAR === 's';
    }
    expect(applied, t.screen()).toBe(true);
    expect(count(t.screen(), 'envd: interrupted')).toBe(1);
    sb.write('home/.config/envd/envd.toml', '');
    sb.write('delay', '0');
  }, 90_000);

  it('the watchdog ends with the shell', async () => {
    const dogs = watchdogsOf(fishPid);
    expect(dogs).toHaveLength(1);
    t.type('exit');
    await until(() => watchdogsOf(fishPid).length === 0, 5000, 'watchdog gone');
  });
});

describe.runIf(haveShell('fish'))('fish: a shell that is not interactive', () => {
  it('leaves no watchdog behind when it exits', () => {
    const sb = new Sandbox();
    try {
      const A = sb.mkdir('A');
      sb.write('A/.envrc', 'export A_VAR=a\n');
      expect(sb.envd(['allow', A]).status).toBe(0);
      const hook = sb.write('hook.fish', sb.envd(['hook', 'fish']).stdout);
      // The first request starts the daemon through the CLI; the second makes the pair.
      const r = sb.shell('fish', [
        `source ${hook}`, `cd ${A}`, '_envd_hook', `cd ${sb.root}`, '_envd_hook', `cd ${A}`, '_envd_hook',
        'echo "$A_VAR $_envd_wpid $fish_pid"',
      ].join('\n'));
      const [value, wpid, fish] = r.stdout.trim().split(' ');
      expect(value, r.stderr).toBe('a');
      expect(Number(wpid)).toBeGreaterThan(0);
      // Gone at once (told by the shell's exit handler), not at its 10 s check.
      const end = Date.now() + 3000;
      while (watchdogsOf(Number(fish)).length > 0 && Date.now() < end) spawnSync('sleep', ['0.05']);
      expect(watchdogsOf(Number(fish))).toEqual([]);
    } finally {
      sb.cleanup();
    }
  });
});
