import { DAEMON_NODE_FLAGS } from '../src/daemon/memory.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, Sandbox } from './helpers/sandbox.js';

// bin/envd is a shell front door: what runs under Node directly is the CLI's entry.
const ENVD_NODE_ENTRY = join(ROOT, 'dist', 'cli', 'main.js');

// `envd daemon install`: the systemd user unit / launchd agent, written into the sandbox's
// HOME. The unit's command line is run for real (without systemd) to show it starts a daemon
// that answers; systemd-analyze verifies the unit where it is installed.

let sb: Sandbox;
beforeEach(() => { sb = new Sandbox(); });
afterEach(() => sb.cleanup());

function install(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = sb.envd(['daemon', 'install', ...args]);
  if (/not available in this build|usage: envd daemon/.test(r.stderr) && !args.includes('--bogus')) {
    throw new Error(`envd daemon install is not wired: ${r.stderr}`);
  }
  return r;
}

const unitFile = (): string => join(sb.env.XDG_CONFIG_HOME ?? '', 'systemd', 'user', 'envd.service');
const plistFile = (): string => join(sb.home, 'Library', 'LaunchAgents', 'dev.envd.daemon.plist');

/** systemd's unquoting of the double-quoted words this unit uses. */
function systemdWords(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] ?? '').replace(/%%/g, '%').replace(/\$\$/g, '$'));
}

describe('systemd user unit', () => {
  it('--print: runs this checkout\'s envd with this node, carries PATH and the XDG dirs', () => {
    const r = install(['--print', '--platform', 'linux']);
    expect(r.status).toBe(0);
    const unit = r.stdout;
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    expect(systemdWords(exec)).toEqual([process.execPath, ...DAEMON_NODE_FLAGS, ENVD_NODE_ENTRY, 'daemon', 'run']);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^WantedBy=default\.target$/m);
    const envs = [...unit.matchAll(/^Environment=(.*)$/gm)].map((m) => systemdWords(m[1] ?? '')[0] ?? '');
    expect(envs).toContain(`PATH=${sb.env.PATH ?? ''}`);
    expect(envs).toContain(`XDG_DATA_HOME=${sb.env.XDG_DATA_HOME ?? ''}`);
    expect(envs).toContain(`XDG_CONFIG_HOME=${sb.env.XDG_CONFIG_HOME ?? ''}`);
    // --print writes nothing.
    expect(existsSync(unitFile())).toBe(false);
  });

  it('writes the unit, says how to enable it, and is idempotent', () => {
    const r = install(['--platform', 'linux']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`wrote ${unitFile()}`);
    expect(r.stderr).toContain('systemctl --user daemon-reload && systemctl --user enable --now envd.service');
    expect(readFileSync(unitFile(), 'utf8')).toBe(install(['--print', '--platform', 'linux']).stdout);
    const again = install(['--platform', 'linux']);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('already installed and current');
  });

  it('does not overwrite a changed or foreign unit without --force; --remove only removes its own', () => {
    install(['--platform', 'linux']);
    writeFileSync(unitFile(), '[Service]\nExecStart=/bin/true\n');
    const r = install(['--platform', 'linux']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--force');
    expect(r.stderr).toContain('not written by envd');
    const rm = install(['--remove', '--platform', 'linux']);
    expect(rm.status).toBe(1);
    expect(existsSync(unitFile())).toBe(true);
    expect(install(['--force', '--platform', 'linux']).status).toBe(0);
    const rm2 = install(['--remove', '--platform', 'linux']);
    expect(rm2.status).toBe(0);
    expect(rm2.stderr).toContain('systemctl --user disable --now envd.service');
    expect(existsSync(unitFile())).toBe(false);
  });

  it('systemd-analyze accepts it (when systemd is installed)', () => {
    if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) {
      process.stderr.write('[envd tests] SKIPPED: systemd-analyze is not installed; unit verification skipped\n');
      return;
    }
    install(['--platform', 'linux']);
    const r = spawnSync('systemd-analyze', ['verify', unitFile()], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l.includes('envd.service'))).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('its command line and environment start a daemon that answers', async () => {
    const unit = install(['--print', '--platform', 'linux']).stdout;
    const [cmd = '', ...args] = systemdWords(/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '');
    const env: Record<string, string> = { HOME: sb.home, XDG_RUNTIME_DIR: sb.env.XDG_RUNTIME_DIR ?? '' };
    for (const m of unit.matchAll(/^Environment=(.*)$/gm)) {
      const [kv = ''] = systemdWords(m[1] ?? '');
      env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    }
    const child = spawn(cmd, args, { env, stdio: 'ignore', detached: true });
    try {
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        await new Promise((r) => setTimeout(r, 50));
        ok = sb.envd(['daemon', 'status', '--json']).status === 0;
      }
      expect(ok).toBe(true);
      const st = JSON.parse(sb.envd(['daemon', 'status', '--json']).stdout) as { pid: number };
      expect(st.pid).toBe(child.pid);
    } finally {
      sb.envd(['daemon', 'stop']);
      try { if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL'); } catch { /* stopped */ }
    }
  });
});

describe('launchd agent', () => {
  it('--print --platform darwin: a plist that runs envd daemon run at login, restarting on failure', () => {
    const r = install(['--print', '--platform', 'darwin']);
    expect(r.status).toBe(0);
    const p = r.stdout;
    expect(p).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<!DOCTYPE plist/);
    expect(p).toContain('<key>Label</key>\n    <string>dev.envd.daemon</string>');
    const args = /<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(p)?.[1] ?? '';
    expect([...args.matchAll(/<string>([^<]*)<\/string>/g)].map((m) => m[1])).toEqual([process.execPath, ...DAEMON_NODE_FLAGS, ENVD_NODE_ENTRY, 'daemon', 'run']);
    expect(p).toMatch(/<key>RunAtLoad<\/key>\s*<true\/>/);
    expect(p).toMatch(/<key>KeepAlive<\/key>\s*<dict>\s*<key>SuccessfulExit<\/key>\s*<false\/>/);
    // Balanced: every opened tag is closed.
    const opens = (p.match(/<(dict|array|plist)>|<plist [^>]*>/g) ?? []).length;
    const closes = (p.match(/<\/(dict|array|plist)>/g) ?? []).length;
    expect(opens).toBe(closes);
  });

  it('writes ~/Library/LaunchAgents/dev.envd.daemon.plist and prints the launchctl command', () => {
    const r = install(['--platform', 'darwin']);
    expect(r.status).toBe(0);
    expect(existsSync(plistFile())).toBe(true);
    expect(r.stderr).toContain(`launchctl bootstrap gui/$(id -u) ${plistFile()}`);
  });

  it('values are XML-escaped', () => {
    const r = sb.envd(['daemon', 'install', '--print', '--platform', 'darwin'], { env: { XDG_DATA_HOME: join(sb.home, 'a&b<c>') } });
    expect(r.stdout).toContain('a&amp;b&lt;c&gt;');
    expect(r.stdout).not.toContain('a&b<c>');
  });
});

it('bad arguments: exit 2 and the usage', () => {
  for (const args of [['--bogus'], ['--platform', 'windows']]) {
    const r = sb.envd(['daemon', 'install', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('envd daemon install [--print] [--force] [--remove] [--platform linux|darwin]');
  }
  expect(existsSync(join(ROOT, 'dist/client/install.js'))).toBe(true);
});
