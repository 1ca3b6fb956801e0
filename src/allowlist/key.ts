import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
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

/** PKCS#8 DER for an Ed25519 private key, up to the 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The key pair for a seed, derived by Node's Ed25519 (OpenSSL): every load of the allowlist
 * needs the public key, and tweetnacl's derivation costs a cold CLI run ~10 ms plus ~10 ms
 * to load it. Same RFC 8032 derivation; a test checks it against tweetnacl's.
 */
export function keyFromSeed(seed: Uint8Array): SigningKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '';
  const publicKey = new Uint8Array(Buffer.from(x, 'base64url'));
  return { publicKey, privateKey, publicHex: Buffer.from(publicKey).toString('hex') };
}

/** A new seed from tweetnacl's key generation (its CSPRNG is the platform's, via Node). */
function newSeed(): Uint8Array {
  // Loaded here only (tweetnacl is CommonJS, so require loads it synchronously): a key is
  // created once per user, never on a prompt's path.
  const nacl = createRequire(import.meta.url)('tweetnacl') as typeof import('tweetnacl');
  return nacl.sign.keyPair().secretKey.slice(0, 32);
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
  const seed = Buffer.from(newSeed());
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
