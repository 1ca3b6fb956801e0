import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Sandbox } from './helpers/sandbox.js';
import { connectAs } from './helpers/daemon-client.js';
import type { ExportOutcome } from '../src/engine/types.js';
import { resolvePaths } from '../src/config/paths.js';
import { readPidFile } from '../src/daemon/pidfile.js';

// Untrusted files are never read blocking or whole. Each test talks to a
// real daemon over its socket, as a hook does, and then checks that the daemon still
// answers another shell: a daemon frozen on a FIFO fails the test by its timeout (the
// client waits 20 s; nothing here is timed beyond that).

const ANSWER_MS = 20_000;

let sb: Sandbox;
let env: Record<string, string>;

beforeEach(() => {
  sb = new Sandbox();
  env = { ...sb.env, PATH: '/usr/local/bin:/usr/bin:/bin' };
  const r = sb.envd(['daemon', 'start']);
  expect(r.status, r.stderr).toBe(0);
});
afterEach(() => sb.cleanup());

/** One export over the socket, waiting for the evaluation (budget: none), as a hook asks. */
async function ask(cwd: string): Promise<ExportOutcome> {
  const c = await connectAs(sb, 5000);
  try {
    const r = await c.request({ type: 'export', req: { cwd, env: { ...env, PWD: cwd } }, budgetMs: null }, ANSWER_MS);
    return r.result;
  } finally {
    c.close();
  }
}

/** Another shell's project, approved: the daemon must keep answering it. */
function otherProject(): string {
  const other = sb.mkdir('other');
  sb.write('other/.envrc', 'export OTHER=1\n');
  expect(sb.envd(['allow'], { cwd: other }).status).toBe(0);
  return other;
}

async function stillAnswers(other: string): Promise<void> {
  const o = await ask(other);
  expect(o.kind).toBe('loaded');
  expect(o.change.set.OTHER).toBe('1');
}

function mkfifo(path: string): void {
  const r = sb.run('mkfifo', [path]);
  expect(r.status, r.stderr).toBe(0);
}

/** Resident memory of the daemon, in MiB. */
function daemonRssMiB(): number {
  const pid = readPidFile(resolvePaths(sb.env));
  expect(pid).not.toBeNull();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  expect(Number.isFinite(kb)).toBe(true);
  return kb / 1024;
}

function said(o: ExportOutcome): string {
  return o.messages.join('\n');
}

describe('34: untrusted files are never read blocking or whole', () => {
  it('a FIFO named go.mod in a parent directory, with [go] auto, does not hold the daemon', async () => {
    sb.write('home/.config/envd/envd.toml', '[go]\nauto = true\n');
    const other = otherProject();
    // Anyone can make this in a shared directory such as /tmp.
    sb.mkdir('shared/proj');
    mkfifo(sb.path('shared', 'go.mod'));
    mkfifo(sb.path('shared', 'proj', 'go.work'));
    const pending = ask(sb.path('shared', 'proj'));
    await stillAnswers(other);
    const o = await pending;
    expect(o.kind).toBe('noop');
    await stillAnswers(other);
  });

  it('source_env of a FIFO is refused without holding the daemon', async () => {
    const other = otherProject();
    const p = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env ./local.sh\nexport A=1\n');
    mkfifo(sb.path('p', 'local.sh'));
    expect(sb.envd(['allow'], { cwd: p }).status).toBe(0);
    const pending = ask(p);
    await stillAnswers(other);
    const o = await pending;
    expect(o.kind).toBe('blocked');
    expect(o.change.set.A).toBeUndefined();
    expect(said(o)).toContain(`refusing ${sb.path('p', 'local.sh')}: a FIFO, not a regular file`);
  });

  it('source_env /dev/zero is refused and daemon memory stays flat', async () => {
    const other = otherProject();
    const p = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env /dev/zero\nexport A=1\n');
    expect(sb.envd(['allow'], { cwd: p }).status).toBe(0);
    await stillAnswers(other);
    const o = await ask(p);
    expect(o.kind).toBe('blocked');
    expect(said(o)).toContain('refusing /dev/zero: a character device, not a regular file');
    expect(daemonRssMiB()).toBeLessThan(300);
    await stillAnswers(other);
  });

  it('a 1 GiB sparse .envrc is refused as too large, not read; daemon memory stays flat', async () => {
    const other = otherProject();
    const p = sb.mkdir('p');
    const rc = sb.path('p', '.envrc');
    const r = sb.run('truncate', ['-s', '1G', rc]);
    expect(r.status, r.stderr).toBe(0);
    await stillAnswers(other);
    const before = daemonRssMiB();
    for (let i = 0; i < 3; i++) {
      const o = await ask(p);
      expect(o.kind).toBe('failed');
      expect(said(o)).toContain(`refusing ${rc}: 1024 MiB, over envd's 1 MiB limit for this kind of file`);
    }
    const after = daemonRssMiB();
    expect(after).toBeLessThan(300);
    expect(after - before).toBeLessThan(100);
    await stillAnswers(other);
    // envd allow reads it the same way.
    const a = sb.envd(['allow'], { cwd: p });
    expect(a.status).not.toBe(0);
    expect(a.stderr).toContain('over envd');
  });

  it('a FIFO config file is skipped with a warning, not read', async () => {
    const other = otherProject();
    sb.mkdir('home/.config/direnv');
    mkfifo(sb.path('home', '.config', 'direnv', 'direnv.toml'));
    const o = await ask(other);
    expect(o.change.set.OTHER).toBe('1');
    expect(said(o)).toContain('a FIFO, not a regular file');
  });
});
