import { inflateRawSync } from 'node:zlib';
import { decodeGzenvValue } from '../eval/dump-codec.js';
import { keepLatest } from '../util/recent.js';

/**
 * Decoding the state a shell carries. envd writes direnv's own formats (DIRENV_DIFF and
 * DIRENV_WATCHES: direnv's gzenv, see src/eval/dump-codec.ts). It still reads the format
 * of envd's earlier releases (ENVD_DIFF, ENVD_WATCHES: `e1.` + base64url of raw-deflated
 * JSON) so a shell started before an upgrade reverts once, correctly; it never writes it.
 */
const LEGACY_PREFIX = 'e1.';

/**
 * Recently decoded texts. The daemon decodes each asking shell's DIRENV_DIFF and
 * DIRENV_WATCHES on every request, and a shell sends the same texts until it changes
 * project: inflating and parsing them again was a tenth of the daemon's time in a burst
 * of 50 shells.
 */
const recent = new Map<string, unknown>();
const RECENT_MAX = 256;
const MAX_STATE_BYTES = 64 * 1024 * 1024;

function cached(text: string, decode: (t: string) => unknown): unknown {
  if (recent.has(text)) {
    const hit = recent.get(text);
    // Most recently used last, so the oldest is the first to go.
    recent.delete(text);
    recent.set(text, hit);
    return hit;
  }
  let value: unknown;
  try {
    value = decode(text);
  } catch {
    value = undefined;
  }
  // Small values only: a huge forged one is decoded each time rather than kept.
  if (text.length <= 64 * 1024) {
    keepLatest(recent, text, value, RECENT_MAX);
  }
  return value;
}

/**
 * A state text in either format: direnv's gzenv, or envd's earlier `e1.` one. undefined
 * for anything else. The result may be shared with other callers (see `recent`): read
 * it, copy what you keep, never change it.
 */
export function decodeState(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  if (text.startsWith(LEGACY_PREFIX)) {
    return cached(text, (t) => JSON.parse(inflateRawSync(Buffer.from(t.slice(LEGACY_PREFIX.length), 'base64url'), { maxOutputLength: MAX_STATE_BYTES }).toString('utf8')) as unknown);
  }
  return cached(text, (t) => decodeGzenvValue(t, MAX_STATE_BYTES));
}
