import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import nacl from 'tweetnacl';
import { errnoCode } from '../util/errors.js';

/**
 * The signing key file holds one line: a tag and the hex Ed25519 seed (32 bytes). The
 * public key is derived from it. Tag first so a file that is not ours is recognised as such.
 */
const KEY_TAG = 'envd-ed25519-seed-v1';

export interface SigningKey {
  publicKey: Uint8Array;
  /** The same seed as a Node key: OpenSSL signs in ~60 µs where tweetnacl takes ~1 ms. */
  privateKey: KeyObject;
  /** Lowercase hex of the public key, as written in the allowlist. */
  publicHex: string;
}

export type KeyRead =
  | { kind: 'ok'; key: SigningKey }
  | { kind: 'missing' }
  | { kind: 'malformed' };

export function keyFromSeed(seed: Uint8Array): SigningKey {
  const pair = nacl.sign.keyPair.fromSeed(seed);
  const x = Buffer.from(pair.publicKey).toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(seed).toString('base64url'), x }, format: 'jwk' });
  return { publicKey: pair.publicKey, privateKey, publicHex: Buffer.from(pair.publicKey).toString('hex') };
}

export function parseKeyFile(text: string): SigningKey | null {
  const m = new RegExp(`^${KEY_TAG} ([0-9a-f]{64})\\n$`).exec(text);
  if (m === null || m[1] === undefined) return null;
  return keyFromSeed(Buffer.from(m[1], 'hex'));
}

export function readKey(path: string): KeyRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  const key = parseKeyFile(text);
  return key === null ? { kind: 'malformed' } : { kind: 'ok', key };
}

/**
 * Create the key file if there is none, and return the key that is there afterwards.
 * The full content is written and fsynced under a temp name, then hard-linked into place:
 * link() fails if the name exists, so the key is never torn and never silently replaced.
 */
export function createKey(path: string): SigningKey {
  const seed = randomBytes(32);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    const buf = Buffer.from(`${KEY_TAG} ${seed.toString('hex')}\n`);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') {
      unlinkSync(tmp);
      throw err;
    }
  }
  unlinkSync(tmp);
  try {
    const dfd = openSync(dirname(path), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch {
    // Best effort, as in writeFileAtomic: not every filesystem can fsync a directory.
  }
  const r = readKey(path);
  if (r.kind !== 'ok') throw new Error(`signing key ${path} is ${r.kind} right after it was created`);
  return r.key;
}
