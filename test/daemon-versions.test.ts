import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, Sandbox, parseJsonExport } from './helpers/sandbox.js';
import { compareVersions } from '../src/daemon/precedence.js';

// Two installed versions never ping-pong the daemon. ENVD_TEST_VERSION
// (docs/protocol.md) makes a client, and the daemons it starts, claim a version, so two
// "installations" are one build with two versions.

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

function pidFile(sb: Sandbox): number {
  return Number(readFileSync(join(sb.runtimeDir, 'daemon.pid'), 'utf8').trim());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('two installed versions', () => {
  it('six alternating calls replace the daemon at most once, and every call is answered', () => {
    const sb = new Sandbox();
    sandboxes.push(sb);
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'export FROM_P=1\n');
    expect(sb.envd(['allow', dir]).status).toBe(0);
    const older = { ENVD_TEST_VERSION: '1.4.0' };
    const newer = { ENVD_TEST_VERSION: '1.10.0' };
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (const env of [older, newer]) {
        const r = sb.envd(['export', 'json'], { cwd: dir, env });
        expect(r.status, r.stderr).toBe(0);
        expect(parseJsonExport(r.stdout).FROM_P).toBe('1');
        // The older installation uses the newer daemon: no warning, no fallback.
        expect(r.stderr).not.toMatch(/working without|newer than/);
        pids.push(pidFile(sb));
      }
    }
    // The first call (older) replaced the daemon `allow` started (this build's 0.x); the
    // newer one replaced that once; after that, nothing moved.
    expect(new Set(pids.slice(1)).size).toBe(1);
    expect(alive(pids[1] ?? 0)).toBe(true);
    expect(pids[0]).not.toBe(pids[1]);
    const st = JSON.parse(sb.envd(['daemon', 'status', '--json'], { env: older }).stdout) as { version: string; pid: number };
    expect(st).toMatchObject({ version: '1.10.0', pid: pids[1] });
    const log = readFileSync(sb.path('home', '.local', 'state', 'envd', 'daemon.log'), 'utf8');
    expect(log.match(/"msg":"daemon ready"/g)).toHaveLength(3);
  });

  it('orders versions like semver, pre-releases below releases, and totally', () => {
    const sorted = ['0.0.1-old', '0.9.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0', '1.2.0', '1.10.0', '9.9.9-new', '10.0.0'];
    for (let i = 0; i < sorted.length; i++) {
      for (let j = 0; j < sorted.length; j++) {
        const a = sorted[i] ?? '';
        const b = sorted[j] ?? '';
        expect(compareVersions(a, b), `${a} vs ${b}`).toBe(Math.sign(i - j));
      }
    }
    // Different strings are never equal, so two of them cannot both win.
    expect(compareVersions('1.0.0', 'v1.0.0')).toBe(-compareVersions('v1.0.0', '1.0.0'));
    expect(compareVersions('1.0.0', 'v1.0.0')).not.toBe(0);
    expect(compareVersions('weird', '1.0.0')).toBe(-1);
  });
});

describe('an upgrade in place', () => {
  it('a daemon whose package on disk changed version steps down, and the hook gets the new one at once', () => {
    const sb = new Sandbox();
    sandboxes.push(sb);
    // An installation of its own: this build, copied, whose package.json the "upgrade" rewrites.
    const pkg = sb.path('pkg');
    for (const part of ['bin', 'dist', 'stdlib', 'shells', 'package.json']) cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const bin = join(pkg, 'bin', 'envd');
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'export FROM_P=1\n');
    expect(sb.run(bin, ['allow', dir]).status).toBe(0);
    expect(sb.run(bin, ['daemon', 'start']).status).toBe(0);
    const before = pidFile(sb);
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
    const upgraded = sb.write('package.upgraded.json', JSON.stringify({ ...manifest, version: '99.0.0' }));
    const r = sb.shell('zsh', [
      `eval "$(${bin} hook zsh)"`,
      `cd ${dir} && _envd_hook; print -r -- "first=$FROM_P"`,
      `cp ${upgraded} ${join(pkg, 'package.json')}`,
      `cd / && _envd_hook; print -r -- "left=\${FROM_P-unset}"`,
      `cd ${dir} && _envd_hook; print -r -- "again=$FROM_P"`,
    ].join('\n'));
    expect(r.stdout, r.stderr).toContain('first=1');
    expect(r.stdout, r.stderr).toContain('left=unset');
    expect(r.stdout, r.stderr).toContain('again=1');
    // The old daemon is gone; the one serving now is the installed version. (The leave
    // asked nothing, by its plan: the entry after it met the old daemon, and the new one,
    // started behind the CLI's in-process answer, may still be starting.)
    expect(alive(before)).toBe(false);
    let st: { version?: string; pid?: number } = {};
    for (const end = Date.now() + 15_000; st.version === undefined && Date.now() < end;) {
      st = JSON.parse(sb.run(bin, ['daemon', 'status', '--json']).stdout) as { version?: string; pid?: number };
      if (st.version === undefined) spawnSync('sleep', ['0.1']);
    }
    expect(st.version).toBe('99.0.0');
    expect(st.pid).not.toBe(before);
  });
});
