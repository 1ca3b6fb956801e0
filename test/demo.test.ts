import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, Sandbox, haveShell } from './helpers/sandbox.js';

// `npm run demo` with stdin not a terminal plays the scripted tour: a real interactive bash
// with the hook from `envd hook bash`, fed one line per prompt, against a real daemon. These
// tests run it as CI does (node dist/demo/main.js, stdin a pipe) and read the transcript.

const DEMO = join(ROOT, 'dist/demo/main.js');

beforeAll(() => {
  if (!existsSync(DEMO)) throw new Error(`dist/ is not built: run 'npm run build' first (${DEMO} is missing)`);
  haveShell('bash');
});

let sb: Sandbox;
beforeEach(() => { sb = new Sandbox(); });
afterEach(() => sb.cleanup());

interface Tour {
  status: number | null;
  out: string;
  err: string;
  sandbox: string;
}

/** Run the demo as a user of this sandbox would: its HOME is the one that must stay untouched. */
function runDemo(args: string[] = [], env: Record<string, string | undefined> = {}): Tour {
  const r = spawnSync(process.execPath, [DEMO, ...args], {
    cwd: sb.home,
    env: { ...sb.env, ...env },
    input: '',
    encoding: 'utf8',
    timeout: 150_000,
  });
  const m = /^ {2}sandbox {2}(\S+)$/m.exec(r.stdout);
  return { status: r.status, out: r.stdout, err: r.stderr, sandbox: m?.[1] ?? '' };
}

/** The transcript's section for one project: from its `== ` title to the next. */
function section(out: string, title: string): string {
  const start = out.indexOf(`\n== ${title}`);
  if (start < 0) throw new Error(`no section '${title}' in:\n${out}`);
  const end = out.indexOf('\n== ', start + 4);
  return out.slice(start, end < 0 ? undefined : end);
}

function goVersionIn(text: string): string {
  const m = /^\$ go version\ngo version go(\d+\.\d+(?:\.\d+)?)\b/m.exec(text);
  if (m === null) throw new Error(`no go version output in:\n${text}`);
  return m[1] ?? '';
}

function valueIn(text: string, name: string): string {
  const m = new RegExp(`^ {3}${name} +(.*)$`, 'm').exec(text);
  if (m === null) throw new Error(`no ${name} line in:\n${text}`);
  return m[1] ?? '';
}

/** Processes whose environment points into `dir` (a daemon the demo failed to stop would). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  if (!existsSync('/proc')) return pids;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'utf8').includes(dir)) pids.push(Number(name));
    } catch { /* gone, or not ours */ }
  }
  return pids;
}

function checkTour(t: Tour): void {
  if (t.status !== 0) throw new Error(`the tour exited ${String(t.status)}:\n${t.out}\n${t.err}`);
  expect(t.out).not.toMatch(/^ {3}FAIL/m);
  expect(t.out).toMatch(/^tour: all \d+ checks passed$/m);

  const legacy = section(t.out, '~/projects/go-legacy');
  const canary = section(t.out, '~/projects/go-canary');
  // Each project got its own Go, and `go env GOROOT` agrees with what envd exported.
  const v1 = goVersionIn(legacy);
  const v2 = goVersionIn(canary);
  expect(v1).not.toBe(v2);
  for (const [s, v] of [[legacy, v1], [canary, v2]] as const) {
    const root = valueIn(s, 'GOROOT');
    expect(s).toContain(`$ go env GOROOT\n${root}\n`);
    expect(root).not.toBe('<unset>');
    expect(valueIn(s, 'GOTOOLCHAIN')).toBe('local');
    expect(s).toMatch(/^envd: export .*\+GOROOT.*~PATH/m);
    expect(s).toMatch(new RegExp(`ok +go version is go${v.replace(/\./g, '\\.')}`));
  }
  expect(valueIn(legacy, 'GOPATH')).toBe('~/projects/go-legacy/.direnv/go');
  expect(valueIn(legacy, 'GOCACHE')).toBe('~/projects/go-legacy/.direnv/go-build');
  expect(valueIn(canary, 'GOPATH')).toBe('~/projects/go-canary/.direnv/go');
  expect(valueIn(legacy, 'GOROOT')).not.toBe(valueIn(canary, 'GOROOT'));

  // Leaving restores everything: twice, after the Go projects and after the others.
  for (const title of ['leave: back to ~', 'leave again']) {
    const s = section(t.out, title);
    expect(s).toContain('envd: unloading');
    for (const n of ['GOROOT', 'GOPATH', 'GOCACHE', 'GOBIN', 'GOTOOLCHAIN']) expect(valueIn(s, n)).toBe('<unset>');
    expect(s).toMatch(/ok +restored: all \d+ exported variables \(PATH included\) are exactly as before/);
  }

  const blocked = section(t.out, '~/projects/needs-approval');
  expect(blocked).toContain("envd: ~/projects/needs-approval/.envrc is blocked. Run 'envd allow' to approve its content");
  expect(blocked).toMatch(/ok +the unapproved \.envrc did not run/);
  expect(blocked).toMatch(/ok +after envd allow it loaded at the next prompt/);

  expect(section(t.out, '~/projects/slow')).toMatch(/ok +applied once the evaluation finished/);

  // The sandbox and the daemon the demo started are gone.
  expect(t.sandbox).toMatch(/envd-demo-/);
  expect(existsSync(t.sandbox)).toBe(false);
  expect(processesUnder(t.sandbox)).toEqual([]);
  // The user's own HOME got nothing: no history, no envd config, no allowlist.
  expect(readdirSync(sb.home)).toEqual([]);
}

describe('npm run demo, stdin not a terminal: the scripted tour', () => {
  it('through the real hook and daemon: Go per project, restored on leave, exit 0', () => {
    const t = runDemo();
    checkTour(t);
    // The real path: the hook line a user writes, and a daemon.
    expect(t.out).toContain('  hook     eval "$(envd hook bash)"');
    expect(t.out).toContain('  daemon   on');
    // The slow .envrc did not hold the prompt: the daemon applied it at a later one.
    const slow = section(t.out, '~/projects/slow');
    expect(slow).toMatch(/still running/);
    expect(slow).toMatch(/ok +the prompt did not wait for the 2 s \.envrc/);
    // The projects are what the banner promises: the installed SDKs when there are two.
    const installed = /Go {7}(\S+) and (\S+) \(installed on this machine\)/.exec(t.out);
    if (installed === null) {
      expect(t.out).toMatch(/\(demo SDKs, this machine has (no Go SDK|only one Go version): stand-ins, not real Go\)/);
    } else {
      expect(goVersionIn(section(t.out, '~/projects/go-legacy'))).toBe(installed[1]);
      expect(goVersionIn(section(t.out, '~/projects/go-canary'))).toBe(installed[2]);
    }
  });

  it('with stand-in SDKs (--demo-sdks), labelled as such', () => {
    const t = runDemo(['--demo-sdks']);
    checkTour(t);
    expect(t.out).toMatch(/Go {7}\S+ and \S+ \(demo SDKs, asked for with --demo-sdks: stand-ins, not real Go\)/);
    expect(goVersionIn(section(t.out, '~/projects/go-legacy'))).toMatch(/\.0$/);
    expect(section(t.out, '~/projects/go-legacy')).toContain('(envd demo SDK, not a real Go)');
  });

  it('without a daemon (--no-daemon): the same tour, in-process', () => {
    const t = runDemo(['--no-daemon', '--demo-sdks']);
    checkTour(t);
    expect(t.out).toContain('  daemon   off (ENVD_NO_DAEMON=1)');
  });

  it('an unknown option: exit 2 with the usage, and no sandbox left behind', () => {
    const r = spawnSync(process.execPath, [DEMO, '--bogus'], { env: sb.env, input: '', encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
    expect(r.stderr).toContain('--demo-sdks');
  });
});
