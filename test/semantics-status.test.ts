// `direnv status [--json]` through the shim prints direnv's formats (the text compared
// with direnv 2.32's, the JSON in newer direnv's shape); `envd status` tells the truth.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, which } from './helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => { sb = new Sandbox({ daemon: false }); });
afterEach(() => sb.cleanup());

/** The `Found RC`/`Loaded RC` lines and the rest, with paths that differ by tool masked. */
function shape(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').map((l) => l
    .replace(/^(direnv exec path|DIRENV_CONFIG|bash_path) .*/, '$1 X')
    .replace(/^(Found|Loaded) watch: .*/, '$1 watch: W')
    .replace(/^(Found|Loaded) RC allowPath .*/, '$1 RC allowPath P'));
}

describe('direnv status through the shim', () => {
  it('prints direnv 2.32\'s lines: Found RC path / allowed true|false', () => {
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    const ours = sb.envd(['direnv', 'status'], { cwd: dir });
    expect(ours.status).toBe(0);
    expect(ours.stdout).toContain(`Found RC path ${dir}/.envrc\n`);
    expect(ours.stdout).toContain('Found RC allowed true\n');
    expect(ours.stdout).toContain('No .envrc or .env loaded\n');
    if (which('direnv') !== null) {
      expect(sb.run('direnv', ['allow'], { cwd: dir }).status).toBe(0);
      const theirs = sb.run('direnv', ['status'], { cwd: dir });
      expect(shape(ours.stdout)).toEqual(shape(theirs.stdout));
    }
    sb.write('p/.envrc', 'export A=2\n');
    expect(sb.envd(['direnv', 'status'], { cwd: dir }).stdout).toContain('Found RC allowed false\n');
    expect(sb.envd(['direnv', 'status'], { cwd: sb.root }).stdout).toContain('No .envrc or .env found\n');
  });

  it('--json has direnv\'s shape: config, state.foundRC / loadedRC with allowed 0, 1 or 2', () => {
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    const loaded = sb.shell('bash', 'eval "$("$ENVD" export bash 2>/dev/null)"; "$ENVD" direnv status --json', { cwd: dir, env: { ENVD: `${process.cwd()}/bin/envd` } });
    const j = JSON.parse(loaded.stdout) as { config: Record<string, string>; state: Record<string, { allowed: number; path: string } | null> };
    expect(Object.keys(j.config).sort()).toEqual(['ConfigDir', 'SelfPath']);
    expect(j.state.foundRC).toEqual({ allowed: 0, path: `${dir}/.envrc` });
    expect(j.state.loadedRC).toEqual({ allowed: 0, path: `${dir}/.envrc` });
    sb.envd(['deny'], { cwd: dir });
    const denied = JSON.parse(sb.envd(['direnv', 'status', '--json'], { cwd: dir }).stdout) as typeof j;
    expect(denied.state.foundRC?.allowed).toBe(2);
    expect(denied.state.loadedRC).toBeNull();
    sb.write('p/.envrc', 'export A=3\n');
    sb.envd(['allow'], { cwd: dir });
    sb.write('p/.envrc', 'export A=4\n');
    expect((JSON.parse(sb.envd(['direnv', 'status', '--json'], { cwd: dir }).stdout) as typeof j).state.foundRC?.allowed).toBe(1);
  });
});

describe('envd status', () => {
  it('says blocked when a sourced file changed since the approval', () => {
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env other.sh\n');
    sb.write('p/other.sh', 'export O=1\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    expect(sb.envd(['export', 'json'], { cwd: dir }).status).toBe(0); // records other.sh
    expect(sb.envd(['status'], { cwd: dir }).stdout).toMatch(/trust: +allowed/);
    sb.write('p/other.sh', 'export O=2\n');
    const st = sb.envd(['status'], { cwd: dir }).stdout;
    expect(st).toMatch(/trust: +blocked — .*other\.sh changed since the approval/);
    expect(st).not.toContain('approved with this exact content');
  });

  it('says why the loaded file was not applied', () => {
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    const r = sb.shell('bash', 'eval "$("$ENVD" export bash 2>/dev/null)"; "$ENVD" status', { cwd: dir, env: { ENVD: `${process.cwd()}/bin/envd` } });
    expect(r.stdout).toMatch(/loaded: +\(nothing applied\) .*\.envrc is blocked/);
    expect(r.stdout).not.toContain('blocked or failed');
  });
});
