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

/**
 * Recently decoded texts. The daemon decodes each asking shell's ENVD_DIFF and ENVD_WATCHES
 * on every request, and a shell sends the same texts until it changes project: inflating
 * and parsing them again was a tenth of the daemon's time in a burst of 50 shells.
 */
const recent = new Map<string, unknown>();
const RECENT_MAX = 256;

/**
 * undefined for anything that is not a value we wrote. The result may be shared with other
 * callers (see `recent`): read it, copy what you keep, never change it.
 */
export function decodeState(text: string | undefined): unknown {
  if (text === undefined || !text.startsWith(PREFIX)) return undefined;
  if (recent.has(text)) {
    const hit = recent.get(text);
    // Most recently used last, so the oldest is the first to go.
    recent.delete(text);
    recent.set(text, hit);
    return hit;
  }
  let value: unknown;
  try {
    value = JSON.parse(inflateRawSync(Buffer.from(text.slice(PREFIX.length), 'base64url'), { maxOutputLength: 64 * 1024 * 1024 }).toString('utf8')) as unknown;
  } catch {
    value = undefined;
  }
  // Small values only: a huge forged one is decoded each time rather than kept.
  if (text.length <= 64 * 1024) {
    recent.set(text, value);
    if (recent.size > RECENT_MAX) {
      const oldest = recent.keys().next().value;
      if (oldest !== undefined) recent.delete(oldest);
    }
  }
  return value;
}
