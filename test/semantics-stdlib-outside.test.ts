// The stdlib sourced into a plain bash (`source <(envd stdlib)`, `direnv stdlib` through
// the shim), as direnv's stdlib works outside direnv: each function runs, calling the
// binary in $direnv where it needs envd.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => { sb = new Sandbox({ daemon: false }); });
afterEach(() => sb.cleanup());

/** Run SCRIPT in a plain bash that sourced the stdlib printed by `envd ARGS`. */
function outside(script: string, cwd: string, stdlibArgs: string[] = ['stdlib']) {
  const lib = sb.envd(stdlibArgs);
  expect(lib.status, lib.stderr).toBe(0);
  const file = sb.write('stdlib.sh', lib.stdout);
  return sb.shell('bash', `source ${JSON.stringify(file)}\n${script}`, { cwd });
}

describe('the stdlib outside an evaluation', () => {
  it('dotenv, dotenv_if_exists, source_env, source_env_if_exists and source_up load files into the shell', () => {
    sb.write('proj/.env', 'A=1\nB="two words"\n');
    sb.write('proj/other.envrc', 'export FROM_OTHER=yes\n');
    sb.write('proj/.envrc', 'export FROM_UP=up\n');
    const sub = sb.mkdir('proj/sub');
    const r = outside([
      'dotenv ../.env; echo "dotenv=$? A=$A B=$B"',
      'dotenv_if_exists nothere; echo "dotenv_if_exists=$?"',
      'source_env ../other.envrc; echo "source_env=$? $FROM_OTHER"',
      'source_env_if_exists nothere; echo "source_env_if_exists=$?"',
      'source_up; echo "source_up=$? $FROM_UP"',
      'watch_file ../.env; echo "watch_file=$?"',
    ].join('\n'), sub);
    expect(r.stdout).toBe([
      'dotenv=0 A=1 B=two words',
      'dotenv_if_exists=0',
      'source_env=0 yes',
      'source_env_if_exists=0',
      'source_up=0 up',
      'watch_file=0',
      '',
    ].join('\n'));
    expect(r.stderr).not.toContain('not available outside');
    expect(r.stderr).toContain(`loading ${sb.path('proj', 'other.envrc')}`);
  });

  it('direnv_apply_dump makes the shell environment the dumped one', () => {
    const dir = sb.mkdir('p');
    const dump = sb.envd(['dump'], { env: { KEEP: 'dumped', NEW_ONE: 'n' } });
    expect(dump.status).toBe(0);
    sb.write('p/env.dump', dump.stdout);
    const r = outside('export GONE=1 KEEP=old\ndirenv_apply_dump env.dump; echo "rc=$? KEEP=$KEEP NEW_ONE=$NEW_ONE GONE=${GONE-unset}"', dir);
    expect(r.stdout, r.stderr).toBe('rc=0 KEEP=dumped NEW_ONE=n GONE=unset\n');
  });

  it('require_allowed checks approvals; absolute paths and .. are refused', () => {
    const dir = sb.mkdir('p');
    sb.write('p/secrets.sh', 'export S=1\n');
    let r = outside('require_allowed secrets.sh; echo "rc=$?"', dir);
    expect(r.stdout).toBe('rc=1\n');
    expect(r.stderr).toContain('secrets.sh requires approval');
    expect(sb.envd(['allow', 'secrets.sh'], { cwd: dir }).status).toBe(0);
    r = outside('require_allowed secrets.sh; echo "rc=$?"', dir);
    expect(r.stdout, r.stderr).toBe('rc=0\n');
    r = outside('require_allowed /etc/passwd; echo "rc=$?"; require_allowed ../x; echo "rc=$?"', dir);
    expect(r.stdout).toBe('rc=1\nrc=1\n');
    expect(r.stderr).toContain('require_allowed: path must be relative: /etc/passwd');
    expect(r.stderr).toContain("require_allowed: path must not contain '..': ../x");
  });

  it('env_vars_required says which variable is required; strict_env sets errexit, nounset and pipefail', () => {
    const dir = sb.mkdir('p');
    const r = outside('export SET=1\nenv_vars_required SET MISSING; echo "rc=$?"\nstrict_env\necho "$-"; set -o | grep pipefail', dir);
    expect(r.stdout).toMatch(/^rc=1\n/);
    expect(r.stderr).toContain('MISSING is required');
    expect(r.stderr).not.toContain('SET is required');
    const flags = r.stdout.split('\n')[1] ?? '';
    expect(flags).toContain('e');
    expect(flags).toContain('u');
    expect(r.stdout).toMatch(/pipefail\s+on/);
  });

  it('`direnv stdlib` through the shim works the same, with $direnv naming the binary', () => {
    sb.write('p/.env', 'VIA_SHIM=1\n');
    const dir = sb.path('p');
    const r = outside('dotenv; echo "rc=$? VIA_SHIM=$VIA_SHIM"; [[ -x $direnv ]] && echo direnv-set', dir, ['direnv', 'stdlib']);
    expect(r.stdout, r.stderr).toBe('rc=0 VIA_SHIM=1\ndirenv-set\n');
  });
});
