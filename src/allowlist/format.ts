import { createPublicKey, sign as signWithKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { isContentHash } from './hash.js';
import type { SigningKey } from './key.js';

/**
 * The allowlist file, version 1 (see docs/security.md):
 *
 *   {
 *     "format": "envd-allowlist",
 *     "version": 1,
 *     "key": "<hex Ed25519 public key>",
 *     "records": [ { "path", "hash", "sourced": { path: hash } | null, "at" }, ... ],
 *     "denied": [ { "path", "at" }, ... ],
 *     "signature": "<hex Ed25519 signature>"
 *   }
 *
 * The signature covers SIGNATURE_DOMAIN followed by the compact JSON of every field but
 * `signature`, in the order above, records and denies sorted by path and sourced maps by
 * key. The file itself is that same object pretty-printed (2 spaces) with a final newline,
 * and a file that is not byte-for-byte what this module would write is rejected: there is
 * exactly one valid encoding of a given allowlist, so any change to the bytes is detected.
 */
export const FORMAT_NAME = 'envd-allowlist';
export const FORMAT_VERSION = 1;
const SIGNATURE_DOMAIN = 'envd-allowlist-signature-v1\n';

export interface TrustRecord {
  /** Real path of the env file. */
  path: string;
  /** contentHash(path, content) of the approved content. */
  hash: string;
  /** Files the approved content pulled in (path -> hash); null until the first evaluation. */
  sourced: Record<string, string> | null;
  /** When it was approved (ISO 8601, UTC). */
  at: string;
}

export interface DenyEntry {
  path: string;
  at: string;
}

/** The allowlist's content, keyed by path: one record and at most one deny per path. */
export interface AllowlistData {
  records: Map<string, TrustRecord>;
  denied: Map<string, DenyEntry>;
}

export function emptyData(): AllowlistData {
  return { records: new Map(), denied: new Map() };
}

export type Decoded =
  | { kind: 'ok'; data: AllowlistData }
  /** Damaged, truncated, edited, or not an allowlist at all. `reason` is a short phrase. */
  | { kind: 'corrupt'; reason: string }
  /** Signed with a key other than ours (or ours was replaced). */
  | { kind: 'wrong-key' }
  /** Written by a newer envd: leave it alone. */
  | { kind: 'newer'; version: number };

interface Body {
  format: string;
  version: number;
  key: string;
  records: TrustRecord[];
  denied: DenyEntry[];
}

function byPath(a: { path: string }, b: { path: string }): number {
  // Code-unit order, not localeCompare: the order must not depend on the machine's locale.
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function canonicalSourced(s: Record<string, string> | null): Record<string, string> | null {
  if (s === null) return null;
  const out: Record<string, string> = {};
  for (const k of Object.keys(s).sort()) {
    const v = s[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function body(data: AllowlistData, publicHex: string): Body {
  return {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    key: publicHex,
    records: [...data.records.values()].sort(byPath).map((r) => ({
      path: r.path,
      hash: r.hash,
      sourced: canonicalSourced(r.sourced),
      at: r.at,
    })),
    denied: [...data.denied.values()].sort(byPath).map((d) => ({ path: d.path, at: d.at })),
  };
}

function signedBytes(b: Body): Uint8Array {
  return Buffer.from(SIGNATURE_DOMAIN + JSON.stringify(b), 'utf8');
}

function layout(b: Body, signatureHex: string): string {
  return JSON.stringify({ ...b, signature: signatureHex }, null, 2) + '\n';
}

/** The file's full text for `data`, signed with `key`. */
export function encode(data: AllowlistData, key: SigningKey): string {
  const b = body(data, key.publicHex);
  const sig = signWithKey(null, signedBytes(b), key.privateKey);
  return layout(b, sig.toString('hex'));
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasExactly(o: Obj, keys: string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(o, k));
}

function isAbsPath(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith('/') && !v.includes('\0');
}

function isTimestamp(v: unknown): v is string {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(v);
}

function parseSourced(v: unknown): Record<string, string> | null | undefined {
  if (v === null) return null;
  if (!isObj(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, h] of Object.entries(v)) {
    // Absolute paths only: this also keeps keys like __proto__ out of the object.
    if (!isAbsPath(k) || !isContentHash(h)) return undefined;
    out[k] = h;
  }
  return out;
}

function parseRecord(v: unknown): TrustRecord | undefined {
  if (!isObj(v) || !hasExactly(v, ['path', 'hash', 'sourced', 'at'])) return undefined;
  const { path, hash, at } = v;
  const sourced = parseSourced(v.sourced);
  if (!isAbsPath(path) || !isContentHash(hash) || sourced === undefined || !isTimestamp(at)) return undefined;
  return { path, hash, sourced, at };
}

function parseDeny(v: unknown): DenyEntry | undefined {
  if (!isObj(v) || !hasExactly(v, ['path', 'at'])) return undefined;
  const { path, at } = v;
  if (!isAbsPath(path) || !isTimestamp(at)) return undefined;
  return { path, at };
}

/**
 * Ed25519 verification with Node's built-in Ed25519 (RFC 8032, as is signing: tweetnacl
 * derives the public key from the seed, src/allowlist/key.ts). It is ~30 times faster than
 * tweetnacl, which matters because every one-shot CLI run verifies the file once, cold, and
 * the daemon signs on its event loop. OpenSSL also rejects non-canonical signatures.
 */
const publicKeys = new Map<string, KeyObject | null>();

function ed25519Verify(message: Uint8Array, signatureHex: string, publicHex: string): boolean {
  let key = publicKeys.get(publicHex);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicHex, 'hex').toString('base64url') }, format: 'jwk' });
    } catch {
      key = null; // not a valid curve point: nothing verifies against it
    }
    publicKeys.set(publicHex, key);
  }
  if (key === null) return false;
  try {
    return verifySignature(null, message, key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/**
 * Parse and verify a whole allowlist file against a public key (hex). Anything short of a
 * perfect, correctly signed file is reported, never partially used. Also what someone who
 * holds only the public key runs to check approvals exported to them.
 */
export function decode(text: string, publicHex: string): Decoded {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { kind: 'corrupt', reason: text.length === 0 ? 'it is empty' : 'it is not valid JSON (truncated or damaged)' };
  }
  if (!isObj(doc) || doc.format !== FORMAT_NAME) return { kind: 'corrupt', reason: 'it is not an envd allowlist' };
  const version = doc.version;
  if (typeof version === 'number' && Number.isInteger(version) && version > FORMAT_VERSION) return { kind: 'newer', version };
  if (version !== FORMAT_VERSION) return { kind: 'corrupt', reason: 'its format version is not valid' };
  if (!hasExactly(doc, ['format', 'version', 'key', 'records', 'denied', 'signature'])) {
    return { kind: 'corrupt', reason: 'it has missing or unexpected fields' };
  }
  const { key: keyHex, signature, records, denied } = doc;
  if (typeof keyHex !== 'string' || !/^[0-9a-f]{64}$/.test(keyHex)) return { kind: 'corrupt', reason: 'its key field is damaged' };
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) return { kind: 'corrupt', reason: 'its signature field is damaged' };
  if (!Array.isArray(records) || !Array.isArray(denied)) return { kind: 'corrupt', reason: 'its records are damaged' };

  const data = emptyData();
  for (const raw of records) {
    const r = parseRecord(raw);
    if (r === undefined || data.records.has(r.path)) return { kind: 'corrupt', reason: 'a record is damaged' };
    data.records.set(r.path, r);
  }
  for (const raw of denied) {
    const d = parseDeny(raw);
    if (d === undefined || data.denied.has(d.path)) return { kind: 'corrupt', reason: 'a deny entry is damaged' };
    data.denied.set(d.path, d);
  }

  if (keyHex !== publicHex) return { kind: 'wrong-key' };
  const b = body(data, publicHex);
  if (!ed25519Verify(signedBytes(b), signature, publicHex)) {
    return { kind: 'corrupt', reason: 'its signature does not verify (it was changed outside envd, or damaged)' };
  }
  if (layout(b, signature) !== text) return { kind: 'corrupt', reason: 'it is not byte-for-byte in the form envd writes (it was edited)' };
  return { kind: 'ok', data };
}

/** For approvals exported to someone who has the public key only: same checks as a load. */
export function verifyWithPublicKey(text: string, publicHex: string): Decoded {
  if (!/^[0-9a-f]{64}$/.test(publicHex)) return { kind: 'wrong-key' };
  return decode(text, publicHex);
}
