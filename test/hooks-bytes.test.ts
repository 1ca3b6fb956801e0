import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ENVD_BIN, Sandbox, haveShell, type Shell } from './helpers/sandbox.js';

/**
 * Values are bytes: a value that is not UTF-8 round-trips exactly
 * through the real bash, zsh and fish hooks (daemon transports) and through the CLI
 * (`envd export SHELL`, every hook's fallback), under LANG=C and a UTF-8 locale. The
 * values are made in the shell from octal or hex escapes (Node cannot put such bytes in
 * an environment), the .envrc copies each one, and the shell's environment is read back
 * with `env -0` as bytes. PATH with an entry that is not UTF-8 survives enter and leave
 * exactly, and `export COPY="$LATIN"` copies the bytes.
 */

type EnvBytes = Map<string, Buffer>;

function parseEnv0(buf: Buffer): EnvBytes {
  const out: EnvBytes = new Map();
  let start = 0;
  for (;;) {
    const nul = buf.indexOf(0, start);
    if (nul === -1) break;
    const entry = buf.subarray(start, nul);
    const eq = entry.indexOf(0x3d);
    if (eq > 0) out.set(entry.subarray(0, eq).toString('latin1'), Buffer.from(entry.subarray(eq + 1)));
    start = nul + 1;
  }
  return out;
}

/** Shell code that sets and exports NAME to exactly these bytes, without envd's quoters. */
function setVar(shell: Shell, name: string, bytes: Buffer): string {
  if (shell === 'fish') {
    return bytes.length === 0 ? `set -gx ${name} ''` : `set -gx ${name} ${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}`;
  }
  return `printf -v ${name} '${[...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}'; export ${name}`;
}

const FIXED: Buffer[] = [
  Buffer.from([0x63, 0x61, 0x66, 0xe9]), // café in Latin-1
  Buffer.from('trailing\\'),
  Buffer.from("it's \"quoted\""),
  Buffer.from('line1\nline2\n'),
  Buffer.from('$(touch /tmp/envd-pwned) `id`'),
  Buffer.from('%self'),
  Buffer.from('\u001b[31mred\u001b]0;title\u0007'),
  Buffer.from('-n'),
  Buffer.from([0xff, 0xfe, 0x5c]), // raw bytes, then a backslash
  Buffer.from([0xc3]), // half a character at the end
  Buffer.from([0xe9, 0x27, 0x0a, 0x80]),
  Buffer.from('é😀'),
  Buffer.alloc(0),
];

const RAW_LITERAL = Buffer.from([0x78, 0xe9, 0x79]);
const ODD_ENTRY = Buffer.from([0x2f, 0x6f, 0x70, 0x74, 0x2f, 0xff]); // /opt/\xff
const LATIN = Buffer.from([0x63, 0x61, 0x66, 0xe9]);

/** Byte strings without NUL: arbitrary bytes, and UTF-8 text. */
const byteValue = fc.oneof(
  fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a.filter((b) => b !== 0))),
  fc.string({ unit: 'binary', maxLength: 16 }).map((s) => Buffer.from(s, 'utf8')).filter((b) => !b.includes(0)),
  fc.constantFrom(...FIXED),
);

const VOLATILE = new Set(['PWD', 'OLDPWD', '_', 'SHLVL']);

for (const shell of ['bash', 'zsh', 'fish'] as const) {
  for (const transport of ['daemon', 'cli'] as const) {
    for (const lang of ['C', 'C.UTF-8']) {
      describe.runIf(haveShell(shell))(`${shell}, ${transport === 'daemon' ? 'hook talking to the daemon' : 'hook falling back to envd export'}, LANG=${lang}`, () => {
        let sb: Sandbox;
        let proj: string;
        let out: string;
        let hook: string;
        let run = 0;

        beforeAll(() => {
          sb = new Sandbox({ daemon: transport === 'daemon', lang });
          // A slow machine must not turn an answer into `pending` (applied at a later prompt).
          sb.write('home/.config/envd/envd.toml', '[global]\nasync_budget = "10s"\n', 0o644);
          proj = sb.mkdir('proj');
          out = sb.mkdir('out');
          sb.mkdir('work');
          // Every V_* copied; LATIN copied as the report's example; a literal that is not
          // UTF-8 in the file itself; PATH_add.
          sb.write('proj/.envrc', Buffer.concat([
            Buffer.from('for n in ${!V_@}; do export "C_${n#V_}=${!n}"; done\nexport COPY="$LATIN"\nexport RAWLIT=\''),
            RAW_LITERAL,
            Buffer.from('\'\nPATH_add bin\n'),
          ]), 0o644);
          expect(sb.envd(['allow', proj]).status).toBe(0);
          const h = sb.envd(['hook', shell]);
          expect(h.status).toBe(0);
          hook = sb.write(`hook.${shell}`, h.stdout);
          if (transport === 'daemon') expect(sb.envd(['daemon', 'start']).status).toBe(0);
        }, 60_000);

        afterAll(() => { sb?.cleanup(); });

        /** Enter and leave the project in one shell; the environment before, inside and after. */
        function roundTrip(values: Buffer[]): { before: EnvBytes; inside: EnvBytes; after: EnvBytes; stderr: string } {
          const n = run++;
          const dumps = [0, 1, 2].map((i) => join(sb.root, 'work', `env-${n}-${i}`));
          const set = values.map((v, i) => setVar(shell, `V_${i}`, v));
          set.push(setVar(shell, 'LATIN', LATIN));
          set.push(shell === 'fish' ? `set -gx PATH $PATH ${[...ODD_ENTRY].map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16)}`)).join('')}` : `${setVar(shell, '__odd', ODD_ENTRY).replace(/; export __odd$/, '')}; PATH=$PATH:$__odd; unset __odd`);
          const script = [
            ...set,
            `source ${hook}`,
            `_envd_hook; env -0 > ${dumps[0]}`,
            `cd ${proj}; _envd_hook; env -0 > ${dumps[1]}`,
            `cd ${out}; _envd_hook; env -0 > ${dumps[2]}`,
          ].join('\n');
          const r = sb.shell(shell, script, { cwd: out, env: { LC_ALL: lang }, timeoutMs: 60_000 });
          expect(r.status, r.stderr).toBe(0);
          const [before, inside, after] = dumps.map((d) => parseEnv0(readFileSync(d)));
          for (const d of dumps) rmSync(d, { force: true });
          return { before: before as EnvBytes, inside: inside as EnvBytes, after: after as EnvBytes, stderr: r.stderr };
        }

        it('random byte strings (not UTF-8 too) round-trip exactly; PATH with a non-UTF-8 entry survives enter and leave', () => {
          fc.assert(fc.property(fc.array(byteValue, { minLength: 1, maxLength: 12 }), (values) => {
            const { before, inside, after, stderr } = roundTrip(values);
            expect(stderr).toContain('envd: loading');
            expect(stderr).not.toContain('not exporting');
            expect(stderr).not.toContain('still running');
            const path0 = before.get('PATH') ?? Buffer.alloc(0);
            expect(path0.subarray(path0.length - ODD_ENTRY.length).equals(ODD_ENTRY)).toBe(true);
            values.forEach((v, i) => {
              expect(inside.get(`V_${i}`)?.equals(v), `V_${i}`).toBe(true);
              expect(inside.get(`C_${i}`)?.equals(v), `C_${i} = ${JSON.stringify(v.toString('latin1'))}`).toBe(true);
            });
            expect(inside.get('COPY')?.equals(LATIN)).toBe(true);
            expect(inside.get('RAWLIT')?.equals(RAW_LITERAL)).toBe(true);
            expect(inside.get('PATH')?.equals(Buffer.concat([Buffer.from(join(proj, 'bin') + ':'), path0]))).toBe(true);
            // Leaving restores everything, byte for byte.
            const names = new Set([...before.keys(), ...after.keys()]);
            for (const name of names) {
              if (VOLATILE.has(name)) continue;
              expect(after.get(name)?.toString('latin1'), name).toBe(before.get(name)?.toString('latin1'));
            }
          }), { numRuns: 2, seed: 12 });
        }, 120_000);
      });
    }
  }
}

describe('envd exec', () => {
  let sb: Sandbox;
  beforeAll(() => { sb = new Sandbox({ daemon: false }); });
  afterAll(() => { sb?.cleanup(); });

  it('gives the command values that are not UTF-8 exactly, PATH and SHLVL included', () => {
    const proj = sb.mkdir('proj');
    sb.write('proj/.envrc', 'export COPY="$LATIN"\nPATH_add bin\n', 0o644);
    expect(sb.envd(['allow', proj]).status).toBe(0);
    const out = sb.path('exec-out');
    const r = sb.shell('bash', [
      setVar('bash', 'LATIN', LATIN),
      `${setVar('bash', '__odd', ODD_ENTRY).replace(/; export __odd$/, '')}; export PATH=$PATH:$__odd SHLVL=4`,
      `${ENVD_BIN} exec ${proj} sh -c 'printf "%s\\0" "$COPY" "$PATH" "$SHLVL"' > ${out}`,
    ].join('\n'));
    expect(r.status, r.stderr).toBe(0);
    const fields = readFileSync(out).toString('latin1').split('\0');
    expect(fields[0]).toBe(LATIN.toString('latin1'));
    expect(fields[1]?.startsWith(`${join(proj, 'bin')}:`)).toBe(true);
    expect(fields[1]?.endsWith(`:${ODD_ENTRY.toString('latin1')}`)).toBe(true);
    expect(fields[2]).toBe('4');
  });
});
