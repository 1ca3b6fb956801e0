import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, Sandbox, parseJsonExport, procState } from './helpers/sandbox.js';
import { killQuietly, processesWith, until } from './helpers/processes.js';
import { ForkServer } from '../src/eval/zygote.js';

// The warm evaluator (src/eval/warm.ts): a bash started with an empty environment reads
// the stdlib, then its request; in the daemon it is started ahead of time. Every .envrc
// here says which kind ran it: a cold bash (ENVD_WARM_EVAL=0) was started with the request
// in its environment (DIRENV_IN_ENVRC is in its /proc environ), a warm one was not.
const MODE = 'if grep -q DIRENV_IN_ENVRC= /proc/$$/environ; then export EVAL_MODE=cold; else export EVAL_MODE=warm; fi\n';

const sandboxes: Sandbox[] = [];
const marks: string[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
  for (const m of marks.splice(0)) for (const pid of processesWith('ENVD_WARM_MARK', m)) killQuietly(pid);
});

/** A process's children, as /proc lists them. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(' ').filter((x) => x !== '').map(Number);
  } catch {
    return [];
  }
}

/** Running (not gone, not a zombie waiting to be reaped). */
function running(pid: number): boolean {
  const state = procState(pid);
  return state !== null && state !== 'Z';
}

function daemon(config?: string, env: Record<string, string> = {}): { sb: Sandbox; pid: number } {
  const sb = new Sandbox();
  sandboxes.push(sb);
  if (config !== undefined) sb.write('home/.config/envd/envd.toml', config);
  const started = sb.envd(['daemon', 'start'], { env });
  expect(started.status, started.stderr).toBe(0);
  return { sb, pid: Number(/pid (\d+)/.exec(started.stderr)?.[1]) };
}

function project(sb: Sandbox, name: string, envrc: string): string {
  const dir = sb.mkdir(name);
  sb.write(`${name}/.envrc`, envrc, 0o644);
  expect(sb.envd(['allow', dir]).status).toBe(0);
  return dir;
}

/** The environment after entering dir, waiting for the evaluation to finish. */
async function enter(sb: Sandbox, dir: string, env: Record<string, string> = {}): Promise<Record<string, string>> {
  let last = '';
  for (let i = 0; i < 100; i++) {
    const r = sb.envd(['export', 'json'], { cwd: dir, env: { PWD: dir, ...env } });
    expect(r.status, r.stderr).toBe(0);
    const vars = parseJsonExport(r.stdout);
    if (vars.EVAL_MODE !== undefined) return vars as Record<string, string>;
    last = r.stderr;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`no evaluation result: ${last}`);
}

describe('the warm evaluator', () => {
  it('keeps nothing of one evaluation for the next: variables, functions, traps, options, cwd', async () => {
    const { sb } = daemon();
    const first = project(sb, 'first', `${MODE}LEAK_VAR=1\nexport LEAK_EXPORTED=1\nleak_fn() { :; }\nexport -f leak_fn\ntrap 'echo trapped' USR1\nset -e -o noglob\nshopt -s nullglob extglob\nulimit -S -c 0\ncd /\n`);
    const second = project(sb, 'second', [
      MODE,
      'export SAW_VAR=${LEAK_VAR-none} SAW_EXPORTED=${LEAK_EXPORTED-none}',
      'declare -F leak_fn >/dev/null && export SAW_FN=yes || export SAW_FN=no',
      'export SAW_TRAP="$(trap -p USR1)" SAW_FLAGS=$- SAW_SHOPT="$(shopt -p nullglob extglob)" SAW_PWD=$PWD SAW_CWD=$(pwd -P)',
      'export SAW_SHELL_VAR=${FROM_SHELL-none}',
      '',
    ].join('\n'));
    expect((await enter(sb, first)).EVAL_MODE).toBe('warm');
    const again = project(sb, 'again', `${MODE}LEAK_VAR=2\ntrap 'echo trapped' USR1\nset -e\nshopt -s nullglob\ncd /\n`);
    expect((await enter(sb, again)).EVAL_MODE).toBe('warm');
    const seen = await enter(sb, second, { FROM_SHELL: 'shell value', SHLVL: '4' });
    expect(seen.EVAL_MODE).toBe('warm');
    expect(seen.SAW_VAR).toBe('none');
    expect(seen.SAW_EXPORTED).toBe('none');
    expect(seen.SAW_FN).toBe('no');
    expect(seen.SAW_TRAP).toBe('');
    expect(seen.SAW_FLAGS).not.toMatch(/[ef]/);
    expect(seen.SAW_SHOPT).toBe('shopt -u nullglob\nshopt -u extglob');
    expect(seen.SAW_PWD).toBe(second);
    expect(seen.SAW_CWD).toBe(second);
    // The request's own environment, as a bash started with it would have it.
    expect(seen.SAW_SHELL_VAR).toBe('shell value');
  }, 60_000);

  it('a warm bash is in the state a cold one is in when the .envrc starts', async () => {
    const { sb } = daemon();
    const { sb: coldSb } = daemon(undefined, { ENVD_WARM_EVAL: '0' });
    // Everything bash can say about itself, minus what differs from one process to the next.
    const state = [
      MODE,
      '{ declare -p; declare -F; shopt -p; set -o; trap -p; echo "$-"; umask; pwd -P; } > state',
      '',
    ].join('\n');
    const cold = project(coldSb, 'p', state);
    const warm = project(sb, 'p', state);
    const env = { FROM_SHELL: 'x', SHLVL: '4', LC_ALL: 'C.UTF-8', OLDPWD: '/tmp' };
    expect((await enter(coldSb, cold, env)).EVAL_MODE).toBe('cold');
    await enter(sb, project(sb, 'warmup', MODE));
    expect((await enter(sb, warm, env)).EVAL_MODE).toBe('warm');
    // The script bash was given (the warm one also reads its request), and the line of
    // it that called the .envrc, differ by design; so do the descriptors envd's own
    // channels are on, and the id a warm evaluation ends its environment with.
    const dynamic = /^declare -[-a-zA-Z]+ (BASHPID|PPID|RANDOM|SRANDOM|SECONDS|EPOCHSECONDS|EPOCHREALTIME|BASH_COMMAND|LINENO|_|__envd_fd|__envd_dumpfd|__envd_dumpid|EVAL_MODE|BASH_EXECUTION_STRING|BASH_LINENO)(=|$)/;
    const read = (dir: string): string[] => readFileSync(`${dir}/state`, 'utf8').split('\n')
      .filter((l) => !dynamic.test(l))
      .map((l) => l.split(dir).join('DIR'));
    // Each sandbox has its own root: compare with it replaced.
    const roots = (lines: string[], sbx: Sandbox): string[] => lines.map((l) => l.split(sbx.root).join('ROOT'));
    expect(roots(read(warm), sb)).toEqual(roots(read(cold), coldSb));
  }, 60_000);

  it('values and a file that are not UTF-8 reach a warm evaluation exactly', async () => {
    const { sb } = daemon();
    const hex = 'export SAW_HEX=$(printf %s "$RAW_VALUE" | od -An -tx1 | tr -d " \\n") SAW_RC_HEX=$(printf %s "$IN_RC" | od -An -tx1 | tr -d " \\n")\n';
    await enter(sb, project(sb, 'warmup', MODE));
    const dir = sb.mkdir('raw');
    // A Latin-1 byte in the file itself, and in a value it sets.
    sb.write('raw/.envrc', Buffer.concat([Buffer.from(`${MODE}# caf`), Buffer.from([0xe9]), Buffer.from("\nIN_RC=$'\\xe9\\x01x'\n"), Buffer.from(hex)]), 0o644);
    expect(sb.envd(['allow', dir]).status).toBe(0);
    let seen: Record<string, string> = {};
    for (let i = 0; i < 100 && seen.EVAL_MODE === undefined; i++) {
      const r = sb.run('bash', ['-c', `RAW_VALUE=$'a\\xe9\\xff b' exec "$0" export json`, ENVD_BIN], { cwd: dir, env: { PWD: dir } });
      expect(r.status, r.stderr).toBe(0);
      seen = parseJsonExport(r.stdout) as Record<string, string>;
    }
    expect(seen.EVAL_MODE).toBe('warm');
    expect(seen.SAW_HEX).toBe('61e9ff2062');
    expect(seen.SAW_RC_HEX).toBe('e90178');
  }, 60_000);

  it("a warm evaluation's environment comes back whole whatever the file does with fds, and never an earlier one's", async () => {
    const { sb } = daemon();
    await enter(sb, project(sb, 'warmup', MODE));
    // fd 5 is where the fork server gets the file the environment is written to: the
    // .envrc may use it (and any other) all the same. Values larger than a pipe holds
    // (each near the limit of one value), and one with a newline.
    const fds = project(sb, 'fds', `${MODE}exec 5>&- 6>&- 7>&- 5>/dev/null\nexport FD_OK=1 BIG=$(head -c 100000 /dev/zero | tr '\\0' x) BIG2=$(head -c 100000 /dev/zero | tr '\\0' y) NL=$'a\\nb\\tc'\n`);
    const seen = await enter(sb, fds);
    expect(seen.EVAL_MODE).toBe('warm');
    expect(seen.FD_OK).toBe('1');
    expect(seen.BIG === 'x'.repeat(100000), `BIG: ${seen.BIG?.length} bytes`).toBe(true);
    expect(seen.BIG2 === 'y'.repeat(100000), `BIG2: ${seen.BIG2?.length} bytes`).toBe(true);
    expect(seen.NL).toBe('a\nb\tc');
    // Ends with status 0 without its EXIT trap (exec): no environment of its own, and
    // not the one the evaluation before it left.
    const gone = project(sb, 'gone', 'export GONE_SET=1\nexec true\n');
    const r = sb.envd(['export', 'json'], { cwd: gone, env: { PWD: gone } });
    expect(r.stderr).toContain('without reporting its environment');
    expect(r.stdout).not.toContain('FD_OK');
    expect(r.stdout).not.toContain('GONE_SET');
    // One that empties the file (it may: it is its own process): its environment is read
    // all the same, and so is the next one's.
    const cut = project(sb, 'cut', `${MODE}: >"/proc/self/fd/$__envd_dumpfd"\nexport CUT=1\n`);
    expect(await enter(sb, cut)).toMatchObject({ EVAL_MODE: 'warm', CUT: '1' });
    expect(await enter(sb, project(sb, 'after', `${MODE}export AFTER=1\n`))).toMatchObject({ EVAL_MODE: 'warm', AFTER: '1' });
  }, 60_000);

  it('in the daemon, the next evaluation runs in a bash started before it was asked for', async () => {
    const { sb } = daemon();
    await enter(sb, project(sb, 'first', MODE));
    const dir = project(sb, 'second', `${MODE}export STARTED_TICKS=$(cut -d' ' -f22 /proc/$$/stat) TICKS=$(getconf CLK_TCK)\n`);
    // The waiting bash is started shortly after the first evaluation ends.
    await new Promise((r) => setTimeout(r, 500));
    const asked = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const seen = await enter(sb, dir);
    expect(seen.EVAL_MODE).toBe('warm');
    expect(Number(seen.STARTED_TICKS) / Number(seen.TICKS)).toBeLessThan(asked);
  }, 60_000);

  it('the evaluation itself is forked before its request comes, not on the way of the cd', async () => {
    const { sb } = daemon();
    await enter(sb, project(sb, 'first', MODE));
    // Field 22 of its own stat, read by the evaluation's own process (no subshell).
    const dir = project(sb, 'second', `${MODE}read -r -a __st < /proc/$BASHPID/stat\nexport SELF_STARTED=\${__st[21]} TICKS=$(getconf CLK_TCK)\n`);
    await new Promise((r) => setTimeout(r, 600));
    const asked = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const seen = await enter(sb, dir);
    expect(seen.EVAL_MODE).toBe('warm');
    expect(Number(seen.SELF_STARTED) / Number(seen.TICKS)).toBeLessThan(asked - 0.3);
  }, 60_000);

  it('an evaluation that cannot say it is done (stderr sent away) ends when the server reaps it, and the next is unaffected', async () => {
    const { sb } = daemon();
    await enter(sb, project(sb, 'warmup', MODE));
    const quiet = project(sb, 'quiet', `${MODE}echo before-redirect\nexec 2>/dev/null\necho after-redirect >&2\nexport QUIET=1\n`);
    expect(await enter(sb, quiet)).toMatchObject({ EVAL_MODE: 'warm', QUIET: '1' });
    const next = project(sb, 'next', `${MODE}echo next-output\nexport NEXT=1\n`);
    const r = sb.envd(['export', 'json'], { cwd: next, env: { PWD: next } });
    expect(r.stderr).not.toContain('envd-end');
    expect(r.stderr).not.toContain('envd-done');
    expect(r.stderr).not.toContain('redirect');
    expect(await enter(sb, next)).toMatchObject({ EVAL_MODE: 'warm', NEXT: '1' });
  }, 60_000);

  it('a fork server that is dropped leaves no evaluation waiting for a request', async () => {
    const z = new ForkServer('/bin/bash', 'test');
    const server = z.child.pid ?? 0;
    let waiting = 0;
    expect(await until(() => { waiting = childrenOf(server)[0] ?? 0; return waiting > 0; }, 10_000)).toBe(true);
    expect(running(waiting)).toBe(true);
    z.drop();
    expect(await until(() => !running(waiting) && !running(server), 10_000)).toBe(true);
  }, 30_000);

  it('a user extension edited between evaluations is what the next one runs', async () => {
    const { sb } = daemon();
    sb.write('home/.config/direnv/direnvrc', 'use_thing() { export THING=one; }\n');
    const a = project(sb, 'a', `${MODE}use thing\n`);
    const b = project(sb, 'b', `${MODE}use thing\n`);
    expect((await enter(sb, a)).THING).toBe('one');
    sb.write('home/.config/direnv/direnvrc', 'use_thing() { export THING=two; }\n');
    const seen = await enter(sb, b);
    expect(seen.EVAL_MODE).toBe('warm');
    expect(seen.THING).toBe('two');
  }, 60_000);

  /** A warm evaluation that hangs (a sleep in the background too), running now: its marker. */
  async function hangingWarm(sb: Sandbox, name: string): Promise<string> {
    const mark = randomBytes(8).toString('hex');
    marks.push(mark);
    await enter(sb, project(sb, 'warmup', MODE));
    const dir = project(sb, name, `${MODE}export ENVD_WARM_MARK=${mark}\necho "$EVAL_MODE" > mode\nsleep 1000 &\nsleep 1000\n`);
    const r = sb.envd(['export', 'json', '--budget', '100'], { cwd: dir, env: { PWD: dir } });
    expect(r.status, r.stderr).toBe(0);
    expect(await until(() => processesWith('ENVD_WARM_MARK', mark).length >= 2, 10_000)).toBe(true);
    expect(readFileSync(`${dir}/mode`, 'utf8')).toBe('warm\n');
    return mark;
  }

  it('kills the whole process group of a warm evaluation at eval_timeout', async () => {
    const { sb } = daemon('[global]\neval_timeout = "1s"\n');
    const mark = await hangingWarm(sb, 'hang');
    expect(await until(() => processesWith('ENVD_WARM_MARK', mark).length === 0, 10_000)).toBe(true);
  }, 60_000);

  it('a warm evaluation ends when the daemon is killed with SIGKILL', async () => {
    const { sb, pid } = daemon();
    const mark = await hangingWarm(sb, 'long');
    process.kill(pid, 'SIGKILL');
    expect(await until(() => processesWith('ENVD_WARM_MARK', mark).length === 0, 5000)).toBe(true);
  }, 60_000);

  it('a background child holding the output does not hold a forked evaluation, and is killed after it', async () => {
    const { sb } = daemon();
    const mark = randomBytes(8).toString('hex');
    marks.push(mark);
    await enter(sb, project(sb, 'warmup', MODE));
    const dir = project(sb, 'holder', `${MODE}(export ENVD_WARM_MARK=${mark}; exec sleep 300) &\nexport DONE=1\n`);
    const seen = await enter(sb, dir);
    expect(seen.EVAL_MODE).toBe('warm');
    expect(seen.DONE).toBe('1');
    expect(await until(() => processesWith('ENVD_WARM_MARK', mark).length === 0, 5000)).toBe(true);
    // The fork server serves the next one as before.
    expect((await enter(sb, project(sb, 'after', MODE))).EVAL_MODE).toBe('warm');
  }, 60_000);
});
