import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { Sandbox } from './helpers/sandbox.js';
import { checkFileSafety } from '../src/allowlist/file-safety.js';
import { isUnder, expandEntry } from '../src/allowlist/whitelist.js';

let sb: Sandbox;
beforeEach(() => { sb = new Sandbox({ daemon: false }); });
afterEach(() => { rmSync(sb.root, { recursive: true, force: true }); });

function refused(path: string): string {
  const r = checkFileSafety(path);
  expect(r.ok).toBe(false);
  if (r.ok) return '';
  expect(r.message).not.toContain('\n');
  return r.message;
}

describe('checkFileSafety', () => {
  it('accepts a file you own that only you can write', () => {
    expect(checkFileSafety(sb.write('a/.envrc', 'x', 0o644))).toEqual({ ok: true });
    expect(checkFileSafety(sb.write('b/.envrc', 'x', 0o600))).toEqual({ ok: true });
    expect(checkFileSafety(sb.write('c/.envrc', 'x', 0o755))).toEqual({ ok: true });
  });

  it("accepts a group-writable file of the owner's private group (umask 002 on desktops)", () => {
    // Here the owner is the test process: root (group root, nobody else in it) or the
    // user pass's account with its user-private group.
    expect(checkFileSafety(sb.write('a/.envrc', 'x', 0o664))).toEqual({ ok: true });
    expect(checkFileSafety(sb.write('b/.envrc', 'x', 0o664), 'none')).toEqual({ ok: true });
  });

  it('refuses a file writable by others and says how to fix it', () => {
    const p = sb.write('a/.envrc', 'x', 0o646);
    expect(refused(p)).toBe(`refusing ${p}: writable by every user; run: chmod o-w ${p}`);
  });

  it('refuses a world-writable file', () => {
    const p = sb.write('a/.envrc', 'x', 0o666);
    expect(refused(p)).toBe(`refusing ${p}: writable by every user; run: chmod go-w ${p}`);
  });

  it('quotes a path with spaces in the command it suggests', () => {
    const p = sb.write("my proj/it's/.envrc", 'x', 0o666);
    expect(refused(p)).toContain(`chmod go-w '${sb.root}/my proj/it'\\''s/.envrc'`);
  });

  it.runIf(process.getuid?.() === 0)('refuses a file owned by another user', () => {
    const p = sb.write('a/.envrc', 'x', 0o644);
    chownSync(p, 4321, 4321);
    expect(refused(p)).toMatch(/owned by uid 4321, not by you/);
    chownSync(p, 0, 0);
    expect(checkFileSafety(p)).toEqual({ ok: true });
  });

  it('refuses what is not a regular file (a FIFO would hang the reader)', () => {
    const dir = sb.path('d', '.envrc');
    mkdirSync(dir, { recursive: true });
    expect(refused(dir)).toMatch(/not a regular file/);
    const fifo = sb.path('fifo.envrc');
    expect(sb.run('mkfifo', [fifo]).status).toBe(0);
    expect(refused(fifo)).toMatch(/not a regular file/);
  });

  it('refuses a file that does not exist, saying so', () => {
    expect(refused(sb.path('nope', '.envrc'))).toMatch(/cannot read it \(it does not exist\)/);
  });
});

describe('whitelist matching', () => {
  it('matches whole components', () => {
    expect(isUnder('/a/proj/.envrc', '/a/proj')).toBe(true);
    expect(isUnder('/a/proj/sub/.envrc', '/a/proj')).toBe(true);
    expect(isUnder('/a/proj', '/a/proj')).toBe(true);
    expect(isUnder('/a/proj-evil/.envrc', '/a/proj')).toBe(false);
    expect(isUnder('/a/projX', '/a/proj')).toBe(false);
    expect(isUnder('/a/.envrc', '/a/proj')).toBe(false);
    expect(isUnder('/anything/.envrc', '/')).toBe(true);
  });

  it('expands ~ and normalizes entries', () => {
    expect(expandEntry('~', '/h/u')).toBe('/h/u');
    expect(expandEntry('~/p/', '/h/u')).toBe('/h/u/p');
    expect(expandEntry('/a//b/../c/', '/h')).toBe('/a/c');
    expect(expandEntry('rel/p', '/h')).toBeNull();
    expect(expandEntry('~other/p', '/h')).toBeNull();
  });
});
