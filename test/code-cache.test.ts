import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../src/daemon/memory.js';

/**
 * dist/envd.cjs runs the bundle with V8's code cache the build wrote for the CLI's flags
 * (none) and the daemon's (scripts/entry.cjs): each must be there under the name the entry
 * computes, and V8 must take it with those flags (a rejected cache costs a full compile,
 * 13-17 ms of every Node start).
 */
const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');

function keyOf(flags: readonly string[]): string {
  let key = 0x811c9dc5;
  for (const ch of flags.join('\0')) key = Math.imul(key ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return key.toString(16);
}

const CHECK = `
const { Script } = require('node:vm'); const fs = require('node:fs'); const Module = require('node:module');
const [file, cache] = process.argv.slice(1);
const s = new Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData: fs.readFileSync(cache) });
process.stdout.write(String(s.cachedDataRejected));
`;

describe('the bundle\'s code cache', () => {
  for (const [who, flags] of [['CLI', []], ['daemon', DAEMON_NODE_FLAGS]] as const) {
    it(`the ${who}'s is there and V8 takes it with the ${who}'s flags`, () => {
      const cache = join(DIST, `envd-bundle.${keyOf(flags)}.cache`);
      expect(existsSync(cache), cache).toBe(true);
      const r = spawnSync(process.execPath, [...flags, '-e', CHECK, join(DIST, 'envd-bundle.cjs'), cache], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('false');
    });
  }

  it('the entry runs the bundle as Node would: its answer, exit status and stderr', () => {
    const r = spawnSync(process.execPath, [join(DIST, 'envd.cjs'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^envd \d+\.\d+\.\d+|^\d+\.\d+\.\d+/);
    const bad = spawnSync(process.execPath, [join(DIST, 'envd.cjs'), 'no-such-verb'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/^envd: /);
  });
});
