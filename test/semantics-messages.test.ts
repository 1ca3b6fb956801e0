// Messages people and scripts read, through the real binary, compared with what direnv
// 2.32 (installed here) prints for the same .envrc where it has the feature.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync } from 'node:fs';
import { Sandbox, which } from './helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => { sb = new Sandbox({ daemon: false }); });
afterEach(() => sb.cleanup());

const HAVE_DIRENV = which('direnv') !== null;

/** stderr lines of `TOOL export bash` in DIR, colour and the tool's prefix taken off. */
function messages(tool: 'envd' | 'direnv', dir: string, env: Record<string, string> = {}): string[] {
  const r = tool === 'envd' ? sb.envd(['export', 'bash'], { cwd: dir, env }) : sb.run('direnv', ['export', 'bash'], { cwd: dir, env });
   
  const plain = r.stderr.replace(/\x1b\[[0-9;]*m/g, '');
  return plain.split('\n').slice(0, -1).map((l) => l.replace(/^(envd|direnv): /, ''));
}

function project(rel: string, envrc: string): string {
  const dir = sb.mkdir(rel);
  sb.write(`${rel}/.envrc`, envrc);
  expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
  if (HAVE_DIRENV) expect(sb.run('direnv', ['allow'], { cwd: dir }).status).toBe(0);
  return dir;
}

describe('messages', () => {
  it('a bash error names the file and line; blank lines the .envrc prints are kept', () => {
    const dir = project('p', 'export A=1\n\necho\necho hi\nnosuchcmd\nf() { alsomissing; }\nf\necho\n');
    const got = messages('envd', dir);
    expect(got).toEqual([
      `loading ${dir}/.envrc`,
      '',
      'hi',
      './.envrc:5: nosuchcmd: command not found',
      './.envrc:6: alsomissing: command not found',
      '',
      'export +A',
    ]);
    if (HAVE_DIRENV) expect(got).toEqual(messages('direnv', dir));
  });

  it('return at the top of an .envrc stops it, as when direnv sources it', () => {
    const dir = project('p', 'export A=1\nreturn 0\nexport B=1\n');
    expect(messages('envd', dir)).toEqual([`loading ${dir}/.envrc`, 'export +A']);
  });

  it('the export summary lists +added, then -removed, then ~changed, each by name', () => {
    const dir = project('p', 'export ZED=1 ALPHA=1 mid=1 _UNDER=1 B2=1\nunset BETA_OLD aaa_old\nexport CHG=new\nPATH_add bin\n');
    const env = { BETA_OLD: '1', aaa_old: '1', CHG: 'old' };
    const got = messages('envd', dir, env);
    expect(got.at(-1)).toBe('export +ALPHA +B2 +ZED +_UNDER +mid -BETA_OLD -aaa_old ~CHG ~PATH');
    if (HAVE_DIRENV) expect(got.at(-1)).toBe(messages('direnv', dir, env).at(-1));
  });

  it('exporting PS1 is dropped silently, as direnv drops it', () => {
    const dir = project('p', 'export PS1="x> "\nexport FOO=1\n');
    const got = messages('envd', dir);
    expect(got).toEqual([`loading ${dir}/.envrc`, 'export +FOO']);
    if (HAVE_DIRENV) expect(got).toEqual(messages('direnv', dir));
  });

  it('env_vars_required says which variable is required', () => {
    const dir = project('p', 'export HAVE=1\nenv_vars_required HAVE NEEDED\n');
    const got = messages('envd', dir);
    expect(got).toContain('env var NEEDED is required but missing/empty');
    expect(got.join('\n')).not.toContain('HAVE is required');
    if (HAVE_DIRENV) expect(got).toEqual(messages('direnv', dir));
  });

  it('use julia says "Successfully loaded", as direnv does', () => {
    const versions = sb.mkdir('julias');
    const julia = sb.write('julias/julia-1.9.3/bin/julia', '#!/bin/sh\necho "julia version 1.9.3"\n');
    chmodSync(julia, 0o755);
    const dir = project('p', 'use julia 1.9\n');
    const env = { JULIA_VERSIONS: versions };
    const got = messages('envd', dir, env);
    expect(got).toContain(`Successfully loaded julia version 1.9.3, from prefix (${versions}/julia-1.9.3)`);
    if (HAVE_DIRENV) {
      const theirs = messages('direnv', dir, env);
      expect(theirs).toContain(`Successfully loaded julia version 1.9.3, from prefix (${versions}/julia-1.9.3)`);
    }
  });
});
