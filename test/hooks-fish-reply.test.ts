import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox, haveShell } from './helpers/sandbox.js';
import { daemonSandboxEachTest } from './helpers/daemon-sandbox.js';

// fish's side of an answer, made cheap (shells/fish/hook.fish): the reply in the pair's
// `.out` has its fields ended by RS rather than NUL (request flag `s`), so one builtin
// `read -z` takes it whole; a value that holds an RS makes the daemon write NULs, and the
// hook reads that the old way. Leave plans and exports are applied by functions made once
// per shape (per set of names), four kept; the walk's candidates are kept for the last two
// directories. `_envd_n` is the hook's request counter; `_envd_hook` stands for a prompt.

let sb: Sandbox;
const hookFor = daemonSandboxEachTest((s) => { sb = s; });

const RS = '\u001e';

/** The `.out` file of the fish shell's pair (there is one shell per test). */
function outFile(): Buffer {
  const dir = join(sb.runtimeDir, 'sh');
  const name = readdirSync(dir).find((n) => n.endsWith('.out'));
  if (name === undefined) throw new Error('no .out file');
  return readFileSync(join(dir, name));
}

describe.runIf(haveShell('fish'))('fish: the reply read in one builtin', () => {
  it('takes an answer with RS-ended fields, and one whose value holds an RS (NUL-ended then), byte for byte', () => {
    const plain = sb.mkdir('plain');
    sb.write('plain/.envrc', "export PLAIN=$'two\\nlines \\xff'\n", 0o644);
    const rs = sb.mkdir('rs');
    sb.write('rs/.envrc', "export WITH_RS=$'a\\x1eb\\nc'\n", 0o644);
    for (const d of [plain, rs]) expect(sb.envd(['allow', d]).status).toBe(0);
    const out = sb.mkdir('out');
    const dump = (name: string): string => `printf '%s' "$${name}" | od -An -tx1 | tr -d ' \\n'; echo`;
    const r = sb.shell('fish', [
      `source ${hookFor('fish')}`,
      `cd ${plain}`, '_envd_hook', `cp $_envd_pair.out ${sb.path('plain.out')}`, dump('PLAIN'),
      `cd ${out}`, '_envd_hook', 'set -q PLAIN; and echo PLAIN left',
      `cd ${rs}`, '_envd_hook', dump('WITH_RS'),
      `cd ${out}`, '_envd_hook', 'set -q WITH_RS; and echo WITH_RS left', 'true',
    ].join('\n'), { cwd: out });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines, r.stderr).toEqual([
      Buffer.from('two\nlines \xff', 'latin1').toString('hex'),
      Buffer.from('a\x1eb\nc', 'latin1').toString('hex'),
    ]);
    // The plain answer went RS-ended (no NUL in it); the one holding an RS, NUL-ended.
    const plainOut = readFileSync(sb.path('plain.out'));
    expect(plainOut.toString('latin1').startsWith(`ENVD-HOOK${RS}1${RS}`)).toBe(true);
    expect(plainOut.includes(0)).toBe(false);
    const rsOut = outFile();
    expect(rsOut.toString('latin1').startsWith('ENVD-HOOK\u00001\u0000')).toBe(true);
    expect(r.stderr).not.toContain('did not answer');
  });

  it('applies the right plan and exports for each of five shapes, twice over (four functions kept), leaving without a request', () => {
    const out = sb.mkdir('out');
    const dirs: string[] = [];
    // Project i exports P_i_0 .. P_i_i: five sets of names, five plans.
    for (let i = 0; i < 5; i++) {
      const d = sb.mkdir(`p${i}`);
      const lines = Array.from({ length: i + 1 }, (_, k) => `export P_${i}_${k}="v ${i} ${k}"`);
      sb.write(`p${i}/.envrc`, lines.join('\n') + '\n', 0o644);
      expect(sb.envd(['allow', d]).status).toBe(0);
      dirs.push(d);
    }
    const script = [`source ${hookFor('fish')}`];
    for (const round of [0, 1]) {
      dirs.forEach((d, i) => {
        script.push(
          `cd ${d}`, '_envd_hook',
          'set ps (set -xn | string match -r "^P_.*")', `echo "in ${round} ${i} [$ps] $P_${i}_0"`,
          'set n0 $_envd_n', `cd ${out}`, '_envd_hook',
          'set ps (set -xn | string match -r "^P_.*")', `echo "out ${round} ${i} [$ps] asked="(math $_envd_n - $n0)`,
        );
      });
    }
    const r = sb.shell('fish', script.join('\n'), { cwd: out });
    expect(r.status, r.stderr).toBe(0);
    const want: string[] = [];
    for (const round of [0, 1]) {
      for (let i = 0; i < 5; i++) {
        const names = Array.from({ length: i + 1 }, (_, k) => `P_${i}_${k}`).join(' ');
        want.push(`in ${round} ${i} [${names}] v ${i} 0`, `out ${round} ${i} [] asked=0`);
      }
    }
    expect(r.stdout.trim().split('\n'), r.stderr).toEqual(want);
  });

  it('finds an env file made in a directory it walked before (the candidates are kept, not the answer)', () => {
    const out = sb.mkdir('out');
    const later = sb.mkdir('later');
    const r = sb.shell('fish', [
      `source ${hookFor('fish')}`,
      `cd ${later}`, '_envd_hook', `cd ${out}`, '_envd_hook', `cd ${later}`, '_envd_hook',
      'echo "before=$LATER"',
      `printf 'export LATER=found\\n' > ${later}/.envrc`, `$_envd_bin allow ${later} >/dev/null`,
      `cd ${out}`, '_envd_hook', `cd ${later}`, '_envd_hook',
      'echo "after=$LATER"',
    ].join('\n'), { cwd: out });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['before=', 'after=found']);
  });
});
