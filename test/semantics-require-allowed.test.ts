// require_allowed as direnv 2.37 has it, through the real binary and a real bash: the
// first `envd allow` approves the .envrc but not the files it requires (listed in
// DIRENV_REQUIRED), the second approves them, and an edit to one needs approval again.
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';

let sb: Sandbox | undefined;
afterEach(() => { sb?.cleanup(); sb = undefined; });

const ENVRC = 'export BEFORE=1\nrequire_allowed secrets.sh\nsource secrets.sh\nexport AFTER=1\n';

/** One bash session: allow, export (as a prompt would), report, step by step. */
function session(s: Sandbox, dir: string): string[] {
  const show = 'echo "BEFORE=${BEFORE-} SECRET=${SECRET-} AFTER=${AFTER-} REQUIRED=${DIRENV_REQUIRED-unset}"';
  const load = 'eval "$(envd export bash)"';
  const script = [
    'envd() { "$ENVD" "$@"; }',
    `envd allow; ${load}; ${show}`,
    `envd allow; ${load}; ${show}`,
    `echo 'export SECRET=s2' > secrets.sh; ${load}; ${show}`,
    `envd allow; ${load}; ${show}`,
  ].join('\n');
  const r = s.shell('bash', script, { cwd: dir, env: { ENVD: `${process.cwd()}/bin/envd` } });
  expect(r.status, r.stderr).toBe(0);
  return [r.stdout, r.stderr];
}

describe.each([false, true])('require_allowed (daemon: %s)', (daemon) => {
  it('needs a second envd allow for the required files, and again after an edit', () => {
    sb = new Sandbox({ daemon });
    const dir = sb.mkdir('proj');
    sb.write('proj/.envrc', ENVRC);
    sb.write('proj/secrets.sh', 'export SECRET=s1\n');
    const [out, err] = session(sb, dir);
    expect(out).toBe([
      'BEFORE=1 SECRET= AFTER= REQUIRED=secrets.sh',
      'BEFORE=1 SECRET=s1 AFTER=1 REQUIRED=unset',
      'BEFORE=1 SECRET= AFTER= REQUIRED=secrets.sh',
      'BEFORE=1 SECRET=s2 AFTER=1 REQUIRED=unset',
      '',
    ].join('\n'));
    expect(err).toContain("secrets.sh requires approval. Run 'envd allow' to approve.");
    expect(err).toContain('envd: allowing secrets.sh');
    if (daemon) sb.envd(['daemon', 'stop']);
  });
});

describe('require_allowed refusals', () => {
  it('an absolute path or one with .. fails the evaluation with direnv\'s message', () => {
    sb = new Sandbox({ daemon: false });
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'export X=1\nrequire_allowed /etc/passwd\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    let r = sb.envd(['export', 'json'], { cwd: dir });
    expect(r.stderr).toContain('require_allowed: path must be relative: /etc/passwd');
    expect(r.stdout).not.toContain('"X"');
    sb.write('p/.envrc', 'require_allowed ../up.sh\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    r = sb.envd(['export', 'json'], { cwd: dir });
    expect(r.stderr).toContain("require_allowed: path must not contain '..': ../up.sh");
  });

  it('several missing files are named together and all approved by the next allow', () => {
    sb = new Sandbox({ daemon: false });
    const dir = sb.mkdir('p');
    sb.write('p/.envrc', 'require_allowed a.sh b.sh\nexport DONE=1\n');
    sb.write('p/a.sh', 'true\n');
    sb.write('p/b.sh', 'true\n');
    const r = sb.shell('bash', [
      'envd() { "$ENVD" "$@"; }',
      'envd allow; eval "$(envd export bash)"; echo "1 ${DONE-} $DIRENV_REQUIRED"',
      'envd allow; eval "$(envd export bash)"; echo "2 ${DONE-}"',
    ].join('\n'), { cwd: dir, env: { ENVD: `${process.cwd()}/bin/envd` } });
    expect(r.stdout).toBe('1  a.sh:b.sh\n2 1\n');
    expect(r.stderr).toContain("a.sh and b.sh require approval. Run 'envd allow' to approve.");
  });
});
