import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * Compact, shell-safe encoding for state the shell carries: base64url of deflated JSON,
 * behind a version prefix so an old or foreign value is recognised rather than misread.
 * The alphabet (A-Z a-z 0-9 - _ .) needs no quoting in any shell.
 */
const PREFIX = 'e1.';

export function encodeState(value: unknown): string {
  // Level 1: this runs on every answer that changes something; the size gain of higher
  // levels is a few bytes on such small texts.
  return PREFIX + deflateRawSync(Buffer.from(JSON.stringify(value)), { level: 1 }).toString('base64url');
}

/** undefined for anything that is not a value we wrote. */
export function decodeState(text: string | undefined): unknown {
  if (text === undefined || !text.startsWith(PREFIX)) return undefined;
  try {
    return JSON.parse(inflateRawSync(Buffer.from(text.slice(PREFIX.length), 'base64url'), { maxOutputLength: 64 * 1024 * 1024 }).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
