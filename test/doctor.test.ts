import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox, haveShell } from './helpers/sandbox.js';
import { fakeGoroot } from './fixtures/go/sdk.js';

// `envd doctor` through the real binary, against sandboxes that are healthy and sandboxes
// broken one way each: the line for that check must say what is wrong and what to do, and
// the exit status must be 1.

interface Check { check: string; status: 'ok' | 'warn' | 'fail'; message: string }

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/doctor.js'))) throw new Error(`dist/ is not built: run 'npm run build' first (${ENVD_BIN} loads dist/)`);
});

let sb: Sandbox;
let project: string;
/** A fake SDK so the Go check has something to find whatever the host has. */
let goRoot: string;

function healthy(s: Sandbox): void {
  goRoot = fakeGoroot(s.path('sdks/go1.21.5'), '1.21.5');
  s.write(join(s.home, '.config/envd/envd.toml'), `[go]\nsdk_dirs = [${JSON.stringify(goRoot)}]\n`);
  project = s.mkdir('proj');
  s.write('proj/.envrc', 'export DOCTOR_TEST=1\n');
  // What a user's ~/.bashrc says after installing; the parent of envd here is not a shell,
  // so doctor falls back to $SHELL and this file.
  s.write(join(s.home, '.bashrc'), '# my bashrc\neval "$(envd hook bash)"\n');
}

/** Environment for doctor: bash is the user's shell. */
const base = { SHELL: '/bin/bash' };

function doctor(s: Sandbox, args: string[] = [], env: Record<string, string | undefined> = {}): { status: number | null; checks: Check[]; text: string; stderr: string } {
  const r = s.envd(['doctor', '--json', ...args], { env: { ...base, ...env }, timeoutMs: 30_000 });
  if (r.stderr.includes("unknown command 'doctor'")) {
    throw new Error("the verb 'doctor' is not registered: add  doctor: () => import('./doctor.js')  to the verb table in src/cli/main.ts");
  }
  let checks: Check[];
  try {
    checks = JSON.parse(r.stdout) as Check[];
  } catch {
    throw new Error(`envd doctor --json printed no JSON (status ${String(r.status)}):\n${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, checks, text: r.stdout, stderr: r.stderr };
}

function line(checks: Check[], name: string): Check {
  const c = checks.find((x) => x.check === name);
  if (c === undefined) throw new Error(`no '${name}' line in ${JSON.stringify(checks)}`);
  return c;
}

function daemonPid(s: Sandbox): number {
  const r = s.envd(['daemon', 'status', '--json']);
  const j = JSON.parse(r.stdout) as { pid?: number };
  if (typeof j.pid !== 'number') throw new Error(`no daemon pid in ${r.stdout}`);
  return j.pid;
}

describe('a healthy sandbox', () => {
  beforeEach(() => {
    sb = new Sandbox();
    healthy(sb);
    expect(sb.envd(['allow', project]).status).toBe(0);
  });
  afterEach(() => sb.cleanup());

  it('every check is ok and the exit status is 0', () => {
    const r = doctor(sb);
    expect(r.checks.map((c) => c.check)).toEqual(['node', 'hook', 'runtime dir', 'daemon', 'allowlist', 'config', 'bash', 'go']);
    expect(r.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(r.status).toBe(0);
    expect(line(r.checks, 'hook').message).toContain('~/.bashrc loads it');
    expect(line(r.checks, 'allowlist').message).toMatch(/signature verified: 1 approval\b/);
    expect(line(r.checks, 'daemon').message).toMatch(/pid \d+, envd \d+\.\d+\.\d+/);
    expect(line(r.checks, 'bash').message).toMatch(/^bash (\d+)\.(\d+)\.\d+ at \//);
    expect(line(r.checks, 'go').message).toContain(`1.21.5 (${goRoot})`);
    expect(line(r.checks, 'runtime dir').message).toContain('0700');
  });

  it('prints one line per check without --json', () => {
    const r = sb.envd(['doctor'], { env: base });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(8);
    for (const l of lines) expect(l).toMatch(/^ok {4}[a-z ]+ {2}\S/);
    // Not a terminal: no colour.
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('starts a daemon that is not running, and says so', () => {
    sb.envd(['daemon', 'stop']);
    const r = doctor(sb);
    expect(line(r.checks, 'daemon')).toMatchObject({ status: 'ok' });
    expect(line(r.checks, 'daemon').message).toMatch(/^started it now: pid \d+/);
  });

  it('--no-start leaves a stopped daemon stopped and only warns', () => {
    sb.envd(['daemon', 'stop']);
    const r = doctor(sb, ['--no-start']);
    expect(line(r.checks, 'daemon')).toMatchObject({ status: 'warn' });
    expect(line(r.checks, 'daemon').message).toContain('envd daemon start');
    expect(r.status).toBe(0);
    expect(sb.envd(['daemon', 'status']).status).toBe(1);
  });

  it('sees the hook of the bash it runs in (real interactive bash, hook loaded)', () => {
    if (!haveShell('bash')) return;
    // No ~/.bashrc: only the running hook itself can make this line ok.
    writeFileSync(join(sb.home, '.bashrc'), '');
    const rc = sb.write('demo-rc', 'eval "$(envd hook bash)"\nPS1=""\n');
    const out = sb.path('doctor.json');
    const script = `cd ${project}\nenvd doctor --json > ${out}\nexit\n`;
    const r = spawnSync('bash', ['--noediting', '--rcfile', rc, '-i'], {
      cwd: sb.home,
      env: { ...sb.env, ...base, PATH: `${join(ROOT, 'bin')}:${sb.env.PATH ?? ''}` },
      input: script,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    const checks = JSON.parse(readFileSync(out, 'utf8')) as Check[];
    expect(line(checks, 'hook')).toMatchObject({ status: 'ok' });
    // The daemon is running (envd allow started it), so the hook talked to it over its FIFO
    // pair, which doctor finds under the shell's pid.
    expect(line(checks, 'hook').message).toMatch(/^the bash hook is loaded in this shell \(pid \d+\)/);
  });
});

describe('a broken sandbox', () => {
  beforeEach(() => {
    sb = new Sandbox();
    healthy(sb);
  });
  afterEach(() => sb.cleanup());

  it('runtime dir 0755: says chmod 700, does not touch the daemon, exits 1', () => {
    const dir = join(sb.env.XDG_RUNTIME_DIR ?? '', 'envd');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    const r = doctor(sb);
    expect(line(r.checks, 'runtime dir')).toMatchObject({ status: 'fail' });
    expect(line(r.checks, 'runtime dir').message).toContain(`chmod 700 ${dir}`);
    expect(line(r.checks, 'daemon')).toMatchObject({ status: 'fail' });
    expect(r.status).toBe(1);
    // Still 0755: doctor reports, it does not repair behind the user's back.
    expect(spawnSync('stat', ['-c', '%a', dir], { encoding: 'utf8' }).stdout.trim()).toBe('755');
  });

  it('a socket path over the OS limit: says how to shorten it, exits 1', () => {
    const long = sb.path('x'.repeat(60), 'y'.repeat(60));
    const r = doctor(sb, [], { ENVD_RUNTIME_DIR: long });
    expect(line(r.checks, 'runtime dir')).toMatchObject({ status: 'fail' });
    expect(line(r.checks, 'runtime dir').message).toContain('ENVD_RUNTIME_DIR');
    expect(r.status).toBe(1);
  });

  it('a forged allowlist record: nothing is trusted, and the line says how to recover', () => {
    expect(sb.envd(['allow', project], { env: { ENVD_NO_DAEMON: '1' } }).status).toBe(0);
    const file = join(sb.env.XDG_DATA_HOME ?? '', 'envd', 'allowlist.json');
    const text = readFileSync(file, 'utf8');
    const m = /"hash": "([0-9a-f]{64})"/.exec(text);
    expect(m).not.toBeNull();
    const hash = m?.[1] ?? '';
    const forged = (hash[0] === 'a' ? 'b' : 'a') + hash.slice(1);
    writeFileSync(file, text.replace(hash, forged), { mode: 0o600 });
    const r = doctor(sb, [], { ENVD_NO_DAEMON: '1' });
    const a = line(r.checks, 'allowlist');
    expect(a.status).toBe('fail');
    expect(a.message).toContain('cannot be trusted');
    expect(a.message).toContain('envd allow');
    expect(r.status).toBe(1);
  });

  it('a frozen daemon (SIGSTOP): fails within the client timeout and says envd daemon restart', () => {
    expect(sb.envd(['daemon', 'start']).status).toBe(0);
    const pid = daemonPid(sb);
    process.kill(pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const r = doctor(sb, [], { ENVD_CLIENT_TIMEOUT_MS: '400' });
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(line(r.checks, 'daemon')).toMatchObject({ status: 'fail' });
      expect(line(r.checks, 'daemon').message).toContain('envd daemon restart');
      expect(r.status).toBe(1);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('a daemon of another version: names both versions, says envd daemon restart', async () => {
    const child = spawn(ENVD_BIN, ['daemon', 'run'], {
      env: { ...sb.env, ENVD_TEST_VERSION: '0.0.1' },
      stdio: 'ignore',
      detached: true,
    });
    child.unref();
    const sock = join(sb.env.XDG_RUNTIME_DIR ?? '', 'envd', 'daemon.sock');
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
    try {
      const r = doctor(sb, ['--no-start']);
      const d = line(r.checks, 'daemon');
      expect(d.status).toBe('fail');
      expect(d.message).toContain('envd 0.0.1');
      expect(d.message).toContain('envd daemon restart');
      expect(r.status).toBe(1);
    } finally {
      try { if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ }
    }
  });

  it('invalid TOML in envd.toml: names the file and line', () => {
    const file = sb.write(join(sb.home, '.config/envd/envd.toml'), '[global]\nload_dotenv = yes please\n');
    const r = doctor(sb);
    const c = r.checks.filter((x) => x.check === 'config');
    expect(c.length).toBeGreaterThan(0);
    expect(c[0]?.status).toBe('fail');
    expect(c[0]?.message).toContain(`${file}:2`);
    expect(r.status).toBe(1);
  });

  it('a bash older than 4.4: says which version and where, and what to do', () => {
    const fake = sb.write('oldbash/bash', '#!/bin/sh\nprintf "3.2.57\\n/bin/bash\\n"\n', 0o755);
    sb.write(join(sb.home, '.config/envd/envd.toml'), `[global]\nbash_path = ${JSON.stringify(fake)}\n[go]\nsdk_dirs = [${JSON.stringify(goRoot)}]\n`);
    const r = doctor(sb);
    const b = line(r.checks, 'bash');
    expect(b.status).toBe('fail');
    expect(b.message).toContain('bash 3.2.57');
    expect(b.message).toContain('4.4');
    expect(b.message).toContain('bash_path');
    expect(r.status).toBe(1);
  });

  it('no hook line anywhere: says the exact line and file', () => {
    writeFileSync(join(sb.home, '.bashrc'), '# nothing\n');
    const r = doctor(sb);
    const h = line(r.checks, 'hook');
    expect(h.status).toBe('fail');
    expect(h.message).toContain('eval "$(envd hook bash)"');
    expect(h.message).toContain('~/.bashrc');
    expect(r.status).toBe(1);
  });

  it('zsh and fish users get their own line and file', () => {
    const z = line(doctor(sb, [], { SHELL: '/usr/bin/zsh' }).checks, 'hook');
    expect(z.status).toBe('fail');
    expect(z.message).toContain('eval "$(envd hook zsh)"');
    expect(z.message).toContain('~/.zshrc');
    const f = line(doctor(sb, [], { SHELL: '/usr/bin/fish' }).checks, 'hook');
    expect(f.message).toContain('envd hook fish | source');
    sb.write(join(sb.home, '.config/fish/config.fish'), 'envd hook fish | source\n');
    expect(line(doctor(sb, [], { SHELL: '/usr/bin/fish' }).checks, 'hook').status).toBe('ok');
  });

  it('ENVD_HOOK=SHELL:PID counts only in the shell with that pid', () => {
    writeFileSync(join(sb.home, '.bashrc'), '');
    // envd's parent here is this test process.
    expect(line(doctor(sb, [], { ENVD_HOOK: `zsh:${process.pid}` }).checks, 'hook')).toMatchObject({ status: 'ok', message: 'the zsh hook is loaded in this shell' });
    // Inherited from another shell: this one has no hook.
    expect(line(doctor(sb, [], { ENVD_HOOK: 'zsh:1' }).checks, 'hook').status).toBe('fail');
  });

  it("direnv's hook instead of envd's: a warning saying what to replace", () => {
    writeFileSync(join(sb.home, '.bashrc'), 'eval "$(direnv hook bash)"\n');
    const h = line(doctor(sb).checks, 'hook');
    expect(h.status).toBe('warn');
    expect(h.message).toContain('direnv');
  });

  it('no Go SDK: a warning, not a failure', () => {
    sb.write(join(sb.home, '.config/envd/envd.toml'), '');
    // A PATH with node and bash only: no go on it, whatever the host has.
    const bin = sb.mkdir('nogo-bin');
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(spawnSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim(), join(bin, 'bash'));
    const r = doctor(sb, [], { ENVD_GO_SYSTEM_ROOTS: '', PATH: bin });
    const g = line(r.checks, 'go');
    expect(g.status).toBe('warn');
    expect(g.message).toContain('sdk_dirs');
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('unknown arguments are a usage error', () => {
    const r = sb.envd(['doctor', '--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('envd doctor [--json] [--no-start]');
  });
});
