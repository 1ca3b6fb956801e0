import { createHash } from 'node:crypto';

/**
 * The identity of an approval: lowercase hex sha256(place + "\n" + content), where the place
 * is where the file is evaluated (placeOf: the real directory plus the file's own name).
 * The path is part of the hash so that a byte-identical copy somewhere else (a cloned repo,
 * a tarball unpacked in /tmp, a symlink in another directory) is not trusted by the
 * approval of the original.
 */
export function contentHash(place: string, content: Buffer): string {
  return createHash('sha256').update(place, 'utf8').update('\n', 'utf8').update(content).digest('hex');
}

/** A value that can be a contentHash() result. */
export function isContentHash(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
}
