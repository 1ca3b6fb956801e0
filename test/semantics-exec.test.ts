// `envd exec` in scripts and CI: a missing DIR is an error; a `use go` whose version is
// not installed stops the job in strict mode, as docs/editors-and-ci.md says.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => { sb = new Sandbox({ daemon: false }); });
afterEach(() => sb.cleanup());

describe('envd exec', () => {
  it('a DIR that does not exist is an error with exit status 1; the command does not run', () => {
    const marker = sb.path('ran');
    const r = sb.envd(['exec', sb.path('nope'), 'sh', '-c', `touch ${marker}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('does not exist');
    const again = sb.run('sh', ['-c', `test -e ${marker}`]);
    expect(again.status).toBe(1);
  });

  it('in CI with strict_env on, a use go whose version is missing fails and runs nothing', () => {
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'use go 1.99\nexport AFTER=1\n');
    sb.write('home/.config/envd/envd.toml', '[global]\nstrict_env = true\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    const r = sb.envd(['exec', '.', 'sh', '-c', 'echo ran'], { cwd: dir, env: { CI: 'true' } });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/1\.99.* not installed/);
  });
});
