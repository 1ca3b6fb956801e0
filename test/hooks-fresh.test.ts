import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVD_BIN, Sandbox, SHELLS, haveShell, which, type Shell } from './helpers/sandbox.js';
import { BUDGET, daemonSandboxEachTest } from './helpers/daemon-sandbox.js';

// Issue 13, DESIGN §2 "When an .envrc runs": entering a project runs its .envrc; an edit
// made by the previous command (the .envrc, a watch_file target, a file in a watch_dir
// tree, `envd allow`, `envd reload`) is applied at the very next prompt, whatever the
// watcher is doing. Each script is one shell session in which `_envd_hook` stands for a
// prompt, run right after the command before it (no waiting for the watcher).

let sb: Sandbox;
const hookFor = daemonSandboxEachTest((s) => { sb = s; });

/** `echo NAME=value` in the shell's syntax (unset shows empty). */
function show(shell: Shell, label: string, name: string): string {
  return shell === 'fish' ? `echo "${label}=$${name}"` : `echo "${label}=\${${name}-}"`;
}

/** A loop over 1..n running `body` (which may use $i) in the shell's syntax. */
function loop(shell: Shell, n: number, body: string[]): string {
  if (shell === 'fish') return [`for i in (seq ${n})`, ...body, 'end'].join('\n');
  if (shell === 'zsh') return [`for i in {1..${n}}; do`, ...body, 'done'].join('\n');
  return [`for ((i = 1; i <= ${n}; i++)); do`, ...body, 'done'].join('\n');
}

/**
 * Let the daemon settle (watch events, background re-runs, generation bumps) and absorb
 * that with a prompt, so the change that follows is seen only if the next prompt itself
 * notices it: the case of a person whose command edits a file and gets the prompt back.
 */
const SETTLE = ['sleep 0.4', '_envd_hook'];

function project(name: string, body: string): string {
  const dir = sb.mkdir(name);
  sb.write(`${name}/.envrc`, body, 0o644);
  expect(sb.envd(['allow', dir]).status).toBe(0);
  return dir;
}

/** A counter the .envrc bumps each time it runs: how many times it ran. */
/**
 * Wait until the second of each path's mtime is over. A state taken in that second records
 * the second before (direnv keeps whole seconds: toDirenvWatch), so the next request
 * rightly asks once more; a test that expects the next one to be a no-op waits first.
 */
function pastMtimeSeconds(paths: string[]): void {
  const latest = Math.max(...paths.map((p) => Math.floor(statSync(p).mtimeMs / 1000)));
  while (Math.floor((Date.now() - 100) / 1000) <= latest) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
}

const COUNTING = 'n=$(cat "$ENVD_TEST_CTR" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$ENVD_TEST_CTR"; export RUNS=$n\n';

for (const shell of SHELLS) {
  describe.runIf(haveShell(shell))(`${shell}: fresh on entry, edits at the next prompt`, () => {
    it('entering runs the .envrc again (a counter); moving between subdirectories does not', () => {
      const dir = project('p', COUNTING);
      sb.mkdir('p/a/deep');
      sb.mkdir('p/b');
      const ctr = sb.path('counter');
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', show(shell, 'in1', 'RUNS'),
        `cd ${dir}/a`, '_envd_hook', `cd ${dir}/a/deep`, '_envd_hook', `cd ${dir}/b`, '_envd_hook', show(shell, 'sub', 'RUNS'),
        `cd ${sb.root}`, '_envd_hook', show(shell, 'out', 'RUNS'),
        `cd ${dir}/a`, '_envd_hook', show(shell, 'in2', 'RUNS'),
        `cd ${sb.root}`, '_envd_hook', `cd ${dir}`, '_envd_hook', show(shell, 'in3', 'RUNS'),
      ].join('\n'), { env: { ENVD_TEST_CTR: ctr } });
      expect(r.stdout, r.stderr).toBe('in1=1\nsub=1\nout=\nin2=2\nin3=3\n');
      expect(readFileSync(ctr, 'utf8')).toBe('3\n');
    });

    it('past the budget, entering applies the last result at once (one line says so) and the fresh one at the next prompt', () => {
      sb.write('home/.config/envd/envd.toml', '[global]\nasync_budget = "300ms"\n');
      // A busy machine can take longer than that even with no delay: prompts until loaded.
      const untilLoaded = shell === 'fish'
        ? 'while test -z "$RUNS"; sleep 0.2; _envd_hook; end'
        : 'while [[ -z ${RUNS-} ]]; do sleep 0.2; _envd_hook; done';
      const delay = sb.write('delay', '0');
      const dir = project('slow', `sleep "$(cat ${delay})"\n${COUNTING}`);
      const ctr = sb.path('counter-slow');
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', untilLoaded, show(shell, 'first', 'RUNS'),
        `echo 2 > ${delay}`,
        `cd ${sb.root}`, '_envd_hook', `cd ${dir}`, '_envd_hook', show(shell, 'stand-in', 'RUNS'),
        // A prompt once the fresh run is done (it bumps the generation).
        'sleep 5', '_envd_hook', show(shell, 'fresh', 'RUNS'),
      ].join('\n'), { env: { ENVD_TEST_CTR: ctr } });
      expect(r.stdout, r.stderr).toBe('first=1\nstand-in=1\nfresh=2\n');
      expect(r.stderr).toContain('the last result applies meanwhile');
    });

    it.runIf(which('git') !== null)('the git branch is fresh after `git checkout -b; cd ..; cd -`', () => {
      const dir = project('g', 'export BRANCH=$(git rev-parse --abbrev-ref HEAD)\n');
      const git = (args: string[]): void => {
        const g = sb.run('git', args, { cwd: dir });
        expect(g.status, g.stderr).toBe(0);
      };
      git(['init', '-q', '-b', 'main']);
      git(['-c', 'user.email=t@e', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'first']);
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', show(shell, 'b1', 'BRANCH'),
        'git checkout -q -b feature', `cd ${sb.root}`, '_envd_hook', `cd ${dir}`, '_envd_hook', show(shell, 'b2', 'BRANCH'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toBe('b1=main\nb2=feature\n');
    });

    it('20 .envrc edits are each blocked at the next prompt, and loaded right after envd allow', () => {
      const dir = project('e', 'export V=0\n');
      const append = 'echo "export V=$i" >> .envrc';
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', show(shell, 'v0', 'V'),
        loop(shell, 20, [append, '_envd_hook', show(shell, 'v', 'V')]),
        ...SETTLE, `${ENVD_BIN} allow`, '_envd_hook', show(shell, 'allowed', 'V'),
        ...SETTLE, `${ENVD_BIN} deny`, '_envd_hook', show(shell, 'denied', 'V'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toBe(`v0=0\n${'v=\n'.repeat(20)}allowed=20\ndenied=\n`);
      expect(r.stderr.split('is blocked').length - 1, r.stderr).toBe(21);
    });

    it('a config edit applies at the next prompt', () => {
      const dir = project('c', 'false\nexport X=1\n');
      const config = sb.path('home', '.config', 'envd', 'envd.toml');
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', show(shell, 'lax', 'X'),
        ...SETTLE, `echo 'strict_env = true' >> ${config}`, '_envd_hook', show(shell, 'strict', 'X'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toBe('lax=1\nstrict=\n');
    });

    it('a config file created where there was none (its directory new too) applies at the next prompt', () => {
      // Missing config and extension files are checked through the highest missing
      // directory on their way (src/engine/outcome.ts, promptPaths).
      const dir = project('n', 'false\nexport X=1\n');
      const direnvDir = sb.path('home', '.config', 'direnv');
      rmSync(direnvDir, { recursive: true, force: true });
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', show(shell, 'lax', 'X'),
        ...SETTLE, `mkdir -p ${direnvDir} && printf '[global]\\nstrict_env = true\\n' > ${direnvDir}/direnv.toml`, '_envd_hook', show(shell, 'strict', 'X'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toBe('lax=1\nstrict=\n');
    });

    it('10 watch_file changes are each applied at the next prompt, and envd reload at the next one', () => {
      const dir = project('w', `watch_file data.txt\nexport D="$(cat data.txt 2>/dev/null)"\n${COUNTING}`);
      const ctr = sb.path('counter-w');
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', show(shell, 'd0', 'D'),
        loop(shell, 10, [...SETTLE, 'echo "x$i" > data.txt', '_envd_hook', show(shell, 'd', 'D')]),
        ...SETTLE, show(shell, 'runs', 'RUNS'),
        `${ENVD_BIN} reload`, '_envd_hook', show(shell, 'reloaded', 'RUNS'),
        '_envd_hook', show(shell, 'idle', 'RUNS'),
      ].join('\n'), { env: { ENVD_TEST_CTR: ctr } });
      const ds = Array.from({ length: 10 }, (_, k) => `d=x${k + 1}\n`).join('');
      expect(r.stdout, r.stderr).toMatch(new RegExp(`^d0=\n${ds}runs=\\d+\nreloaded=\\d+\nidle=\\d+\n$`));
      // The watcher's own re-runs also count, so: reload ran it again; the idle prompt did not.
      const num = (label: string): number => Number(new RegExp(`${label}=(\\d+)`).exec(r.stdout)?.[1]);
      expect(num('reloaded')).toBeGreaterThan(num('runs'));
      expect(num('idle')).toBe(num('reloaded'));
    });

    it('a watched file that was missing appears with an old mtime (an archive unpacked, cp -p): applied at the next prompt', () => {
      const dir = project('old', 'watch_file data.txt\nexport D="$(cat data.txt 2>/dev/null)"\n');
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', show(shell, 'before', 'D'),
        ...SETTLE,
        'echo unpacked > data.txt', 'touch -d 2001-01-01T00:00:00 data.txt', '_envd_hook', show(shell, 'after', 'D'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toBe('before=\nafter=unpacked\n');
    });

    it('watch_dir covers the tree: a file deep inside, and a change that keeps size and mtime (ctime)', () => {
      sb.mkdir('t/conf/sub');
      sb.write('t/conf/sub/x.txt', 'aaaa');
      const dir = project('t', `watch_dir conf\n${COUNTING}`);
      const ctr = sb.path('counter-t');
      const keep = 'touch -r conf/sub/x.txt conf/ref && printf bbbb > conf/sub/x.txt && touch -r conf/ref conf/sub/x.txt && rm conf/ref && touch -r conf/sub conf/sub';
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook', show(shell, 'r0', 'RUNS'),
        ...SETTLE, 'echo more >> conf/sub/x.txt', '_envd_hook', show(shell, 'r1', 'RUNS'),
        ...SETTLE, 'echo new > conf/sub/y.txt', '_envd_hook', show(shell, 'r2', 'RUNS'),
      ].join('\n'), { env: { ENVD_TEST_CTR: ctr } });
      // The watcher may run it too (a background re-run): at least once per change.
      const runs = [...r.stdout.matchAll(/r\d=(\d+)/g)].map((m) => Number(m[1]));
      expect(runs, r.stderr).toHaveLength(3);
      expect(runs[0]).toBe(1);
      expect(runs[1]).toBeGreaterThan(runs[0] ?? 0);
      expect(runs[2]).toBeGreaterThan(runs[1] ?? 0);
      // Same size, same mtime, new content: builtin `-nt` cannot see it; the request's
      // check does (ctime is in the tree's signature), whenever the shell asks. Asked here
      // through the CLI with the state a shell would carry.
      pastMtimeSeconds([join(dir, '.envrc'), join(dir, 'conf'), join(dir, 'conf', 'sub'), sb.path('home', '.config', 'envd', 'envd.toml')]);
      const first = sb.envd(['export', 'json'], { cwd: dir, env: { ENVD_TEST_CTR: ctr } });
      expect(first.status, first.stderr).toBe(0);
      const env: Record<string, string> = { ENVD_TEST_CTR: ctr };
      for (const [n, v] of Object.entries(JSON.parse(first.stdout) as Record<string, string | null>)) if (v !== null) env[n] = v;
      const again = sb.envd(['export', 'json'], { cwd: dir, env });
      expect(again.stdout.trim(), `first answer: ${first.stdout}\n${again.stderr}`).toBe('');
      const k = sb.run('sh', ['-c', keep], { cwd: dir });
      expect(k.status, k.stderr).toBe(0);
      const after = sb.envd(['export', 'json'], { cwd: dir, env });
      expect(after.stdout, after.stderr).toContain('"RUNS"');
    });
  });
}

describe('[go] auto in a new shell', () => {
  for (const shell of SHELLS) {
    it.runIf(haveShell(shell))(`${shell}: a directory holding only a pin file gives that Go at the first prompt`, () => {
      sb.write('home/.config/envd/envd.toml', `${BUDGET}[go]\nauto = true\nsdk_dirs = ["/usr/lib"]\n`);
      for (const [name, content] of [['.go-version', '1.21\n'], ['.golang-version', '1.21\n'], ['.gvmrc', 'gvm use go1.21\n']] as const) {
        const d = sb.mkdir(`go-${shell}-${name.slice(1)}`);
        sb.write(`go-${shell}-${name.slice(1)}/${name}`, content);
        const r = sb.shell(shell, [`source ${hookFor(shell)}`, `cd ${d}`, '_envd_hook', show(shell, 'root', 'GOROOT')].join('\n'));
        expect(r.stdout, `${name}: ${r.stderr}`).toBe('root=/usr/lib/go-1.21\n');
      }
    });
  }
});
