// The dump codec (src/eval/dump-codec.ts) and the paths a dump takes into an environment:
// thousands of random values through gzenv, through `envd apply_dump` evaluated by real
// bash, and through the stdlib's direnv_apply_dump in a real evaluation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { applicablePairs, decodeDump, decodeGzenv, DumpFormatError, encodeGzenv, isDumpIgnored } from '../src/eval/dump-codec.js';
import { loadEnvrc, sandbox, verb, write, type Sandbox } from './fixtures/stdlib/harness.js';

/** Values an environment can hold: any Unicode text without NUL (lone surrogates have no UTF-8). */
const envValue = fc.string({ unit: 'grapheme', maxLength: 40 }).chain((g) =>
  fc.oneof(
    fc.constant(g),
    fc.constantFrom('', '\\', "'", '"', '\n', '$(id)', '`id`', '%self', '\x1b[31m', '-n', ' lead', 'trail ', '\t', '\r\n', '${HOME}', '!!'),
    fc.string({ unit: 'binary', maxLength: 30 }),
  )).map((s) => s.replace(/\0/g, '').replace(/[\ud800-\udfff]/g, ''));

function randomEnv(seed: number, count: number): Record<string, string> {
  const values = fc.sample(envValue, { seed, numRuns: count });
  const env: Record<string, string> = {};
  values.forEach((v, i) => { env[`RV_${i}`] = v; });
  return env;
}

describe('gzenv codec', () => {
  it('round-trips any environment', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), envValue, { maxKeys: 30 }), (env) => {
      expect(decodeGzenv(encodeGzenv(env))).toEqual(env);
    }), { numRuns: 300, examples: [[{ ['__proto__']: '', ['constructor']: 'c' }]] });
    // Always, not only when the generator happens to pick them: names of Object.prototype.
    const named = decodeGzenv(encodeGzenv({ ['__proto__']: 'p', ['toString']: 't' }));
    expect(Object.keys(named)).toEqual(['__proto__', 'toString']);
    expect(named['constructor']).toBeUndefined();
  });

  it('reads JSON dumps and padding-less base64; refuses anything else with a reason', () => {
    expect(decodeDump('{"A":"1"}')).toEqual({ A: '1' });
    expect(decodeGzenv(encodeGzenv({ A: '1' }).replace(/=+$/, ''))).toEqual({ A: '1' });
    const bad = (text: string): string => {
      try { decodeDump(text); } catch (err) { if (err instanceof DumpFormatError) return err.message; throw err; }
      return 'accepted';
    };
    expect(bad('')).toContain('empty');
    expect(bad('not base64 !')).toContain('base64');
    expect(bad('AAAA')).toContain('decompress');
    expect(bad(deflateSync(Buffer.from('[1,2]')).toString('base64url'))).toContain('JSON object');
    expect(bad(deflateSync(Buffer.from('{"A":1}')).toString('base64url'))).toContain('not a string');
    expect(bad('{"A":')).toContain('not valid JSON');
  });

  it('keeps only names a shell can hold and values without NUL; knows the ignored names', () => {
    expect(applicablePairs({ 'A B': '1', OK: 'x', NUL: 'a\0b', _u: '' })).toEqual([['OK', 'x'], ['_u', '']]);
    for (const n of ['PWD', 'SHLVL', '_', 'DIRENV_DIFF', 'ENVD_DIFF', 'BASH_FUNC_x%%', '__fish_x']) expect(isDumpIgnored(n), n).toBe(true);
    for (const n of ['PATH', 'HOME', 'DIRENV_EXTRA_VIMRC', 'GOPATH']) expect(isDumpIgnored(n), n).toBe(false);
  });
});

describe('random values end to end', () => {
  let sb: Sandbox;
  beforeEach(() => { sb = sandbox(); });
  afterEach(() => sb.cleanup());

  it('apply_dump output evaluated by bash gives back every value byte for byte', () => {
    const env = randomEnv(42, 1000);
    const file = write(sb.path('rand.dump'), encodeGzenv({ ...env, PATH: sb.env.PATH ?? '/usr/bin:/bin' }));
    const code = verb(sb, 'apply_dump', [file]);
    expect(code.status, code.stderr).toBe(0);
    const names = Object.keys(env);
    const script = `${code.stdout}\nprintf '%s\\0' ${names.map((n) => `"$${n}"`).join(' ')}`;
    const r = spawnSync('bash', ['--noprofile', '--norc', '-c', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, maxBuffer: 1 << 26 });
    expect(r.stderr).toBe('');
    const got = r.stdout.split('\0').slice(0, names.length);
    expect(got).toEqual(names.map((n) => env[n]));
  });

  it('direnv_apply_dump in an .envrc exports every value exactly', () => {
    const env = randomEnv(7, 300);
    const dir = sb.mkdir('p');
    write(join(dir, 'saved.dump'), encodeGzenv({ ...env, PATH: sb.env.PATH ?? '/usr/bin:/bin', HOME: sb.home }));
    const r = loadEnvrc(sb, 'p', 'direnv_apply_dump saved.dump\n');
    expect(r.status, r.stderr).toBe(0);
    for (const [n, v] of Object.entries(env)) expect(r.vars[n], n).toBe(v);
  });
});
