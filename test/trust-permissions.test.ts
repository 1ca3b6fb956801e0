import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chownSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Sandbox } from './helpers/sandbox.js';
import { step } from './helpers/steps.js';
import { ATTACKER, TEST_USER, canSwitchUsers, isRoot, mustAccount } from './helpers/users.js';

// Who may write an env file. Run where users run: as a normal user whose
// files are made under umask 002 with a group of their own (Ubuntu's and Fedora's desktop
// default), through the real binary and a real daemon. As root the sandbox acts as
// TEST_USER (and root makes the shared group and the foreign owner); in the user pass
// (scripts/test-as-user.sh) the test process is that user.

const actAsUser = isRoot() ? canSwitchUsers() : true;

let sb: Sandbox;
let env: Record<string, string>;

function sandbox(): Sandbox {
  sb = isRoot() ? new Sandbox({ user: mustAccount(TEST_USER) }) : new Sandbox();
  env = { ...sb.env, PATH: '/usr/local/bin:/usr/bin:/bin' };
  return sb;
}
afterEach(() => sb?.cleanup());

/** Make files as the user would: their own shell, umask 002. */
function userWrites(rel: string, content: string): string {
  const p = sb.path(rel);
  const r = sb.run('sh', ['-c', 'umask 002 && mkdir -p "$(dirname "$1")" && printf %s "$2" > "$1"', 'sh', p, content]);
  expect(r.status, r.stderr).toBe(0);
  return p;
}

function userRuns(script: string, ...args: string[]): void {
  const r = sb.run('sh', ['-c', script, 'sh', ...args]);
  expect(r.status, r.stderr).toBe(0);
}

function allow(dir: string): void {
  const r = sb.envd(['allow'], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
}

function modeOf(p: string): number {
  return statSync(p).mode & 0o777;
}

describe.runIf(actAsUser)('6: a normal user under umask 002', () => {
  it('a group-writable .envrc and sourced file of their own private group load', () => {
    sandbox();
    const rc = userWrites('p/.envrc', 'source_env local.sh\nexport A=1\n');
    const local = userWrites('p/local.sh', 'export B=2\n');
    expect(modeOf(rc)).toBe(0o664);
    expect(modeOf(local)).toBe(0o664);
    const p = sb.path('p');
    allow(p);
    const s = step(sb, p, env);
    expect(s.stderr).not.toMatch(/refusing/);
    expect(s.env.A).toBe('1');
    expect(s.env.B).toBe('2');
  });

  it('a world-writable .envrc is refused, naming the fix', () => {
    sandbox();
    const rc = userWrites('p/.envrc', 'export A=1\n');
    const p = sb.path('p');
    allow(p);
    userRuns('chmod 666 "$1"', rc);
    const s = step(sb, p, env);
    expect(s.env.A).toBeUndefined();
    expect(s.stderr).toContain(`refusing ${rc}: writable by every user; run: chmod go-w ${rc}`);
  });

  it('a world-writable sourced file is refused', () => {
    sandbox();
    userWrites('p/.envrc', 'source_env local.sh\nexport A=1\n');
    const local = userWrites('p/local.sh', 'export B=2\n');
    userRuns('chmod 646 "$1"', local);
    const p = sb.path('p');
    allow(p);
    const s = step(sb, p, env);
    expect(s.env.B).toBeUndefined();
    expect(s.env.A).toBeUndefined();
    expect(s.stderr).toContain(`refusing ${local}: writable by every user; run: chmod o-w ${local}`);
  });

  it('a whitelisted directory with group-writable files of the private group loads', () => {
    sandbox();
    const w = sb.path('w');
    userWrites('w/.envrc', 'source_env local.sh\nexport W=1\n');
    userWrites('w/local.sh', 'export L=1\n');
    userWrites('home/.config/envd/envd.toml', `[whitelist]\nprefix = [${JSON.stringify(w)}]\n`);
    const s = step(sb, w, env);
    expect(s.stderr).not.toMatch(/refusing/);
    expect(s.env.W).toBe('1');
    expect(s.env.L).toBe('1');
  });
});

describe.runIf(isRoot() && canSwitchUsers())('6: other users can write it', () => {
  // A group with TEST_USER and another member, made for these tests and removed after.
  const shared = `envdsh${process.pid % 100000}`;
  beforeAll(() => {
    spawnSync('groupdel', [shared]);
    for (const [cmd, args] of [['groupadd', [shared]], ['gpasswd', ['-a', TEST_USER, shared]], ['gpasswd', ['-a', ATTACKER, shared]]] as const) {
      const r = spawnSync(cmd, [...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    }
  });
  afterAll(() => {
    spawnSync('groupdel', [shared]);
  });

  function sharedGid(): number {
    const r = spawnSync('getent', ['group', shared], { encoding: 'utf8' });
    return Number(r.stdout.split(':')[2]);
  }

  it('an approved .envrc group-writable by a group with another member is refused, naming the fix', () => {
    sandbox();
    const rc = userWrites('p/.envrc', 'export A=1\n');
    const p = sb.path('p');
    allow(p);
    expect(step(sb, p, env).env.A).toBe('1');
    chownSync(rc, mustAccount(TEST_USER).uid, sharedGid());
    expect(modeOf(rc)).toBe(0o664);
    const s = step(sb, p, env);
    expect(s.env.A).toBeUndefined();
    expect(s.stderr).toContain(`refusing ${rc}: writable by group ${shared}, whose other members (${ATTACKER}) can change it; run: chmod g-w ${rc}`);
    // The fix works.
    userRuns('chmod g-w "$1"', rc);
    expect(step(sb, p, env).env.A).toBe('1');
  });

  it('a sourced file group-writable by a shared group is refused', () => {
    sandbox();
    userWrites('p/.envrc', 'source_env local.sh\n');
    const local = userWrites('p/local.sh', 'export B=2\n');
    chownSync(local, mustAccount(TEST_USER).uid, sharedGid());
    const p = sb.path('p');
    allow(p);
    const s = step(sb, p, env);
    expect(s.env.B).toBeUndefined();
    expect(s.stderr).toContain(`refusing ${local}: writable by group ${shared}`);
  });

  it('an .envrc owned by another user (nobody) is refused, even approved and private', () => {
    sandbox();
    const rc = userWrites('p/.envrc', 'export A=1\n');
    const p = sb.path('p');
    allow(p);
    userRuns('chmod 644 "$1"', rc);
    const nobody = mustAccount(ATTACKER);
    chownSync(rc, nobody.uid, nobody.gid);
    const s = step(sb, p, env);
    expect(s.env.A).toBeUndefined();
    expect(s.stderr).toContain(`refusing ${rc}: owned by uid ${nobody.uid}, not by you`);
  });

  it('a whitelisted directory with a file group-writable by a shared group is refused', () => {
    sandbox();
    const w = sb.path('w');
    const rc = userWrites('w/.envrc', 'export W=1\n');
    userWrites('home/.config/envd/envd.toml', `[whitelist]\nprefix = [${JSON.stringify(w)}]\n`);
    expect(step(sb, w, env).env.W).toBe('1');
    chownSync(rc, mustAccount(TEST_USER).uid, sharedGid());
    const s = step(sb, w, env);
    expect(s.env.W).toBeUndefined();
    expect(s.stderr).toContain(`refusing ${rc}: writable by group ${shared}`);
  });

  it('[trust] sourced_files = "follow": a sourced file of a shared group is refused', () => {
    sandbox();
    userWrites('home/.config/envd/envd.toml', '[trust]\nsourced_files = "follow"\n');
    userWrites('p/.envrc', 'source_env local.sh\n');
    const local = userWrites('p/local.sh', 'export B=2\n');
    const p = sb.path('p');
    allow(p);
    expect(step(sb, p, env).env.B).toBe('2');
    chownSync(local, mustAccount(TEST_USER).uid, sharedGid());
    const s = step(sb, join(p), env);
    expect(s.env.B).toBeUndefined();
    expect(s.stderr).toContain(`refusing ${local}: writable by group ${shared}`);
  });
});
