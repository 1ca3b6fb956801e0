import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ENVD_BIN, Sandbox, haveShell, type Shell } from './helpers/sandbox.js';
import { hookCopyPath, hookFile as hookFileOf, hookScript as hookScriptOf, sourcedHookFile, BIN_PLACEHOLDER } from '../src/shells/files.js';
import { SHELLS } from '../src/shells/index.js';

const hookFile = (shell: Shell): string => hookFileOf(SHELLS[shell]);
const hookScript = (shell: Shell, bin?: string): string => hookScriptOf(SHELLS[shell], bin);
import { encodeReply, encodeReplyHead, encodeReplyTail, parseDeclarePx, type HookRecord } from '../src/protocol/hook-records.js';

/**
 * The hook files in the real shells, without a daemon: lint, loading under strict options,
 * registration, the binary path's quoting, and the reply parser and applier (cut-off
 * answers, hostile values) driven directly.
 */

const have: Record<Shell, boolean> = { bash: haveShell('bash'), zsh: haveShell('zsh'), fish: haveShell('fish') };

let sb: Sandbox;
beforeAll(() => { sb = new Sandbox({ daemon: false }); });
afterAll(() => { sb.cleanup(); });

/**
 * The hook as its line loads it, in a file to source. bash's copy defines the functions
 * that ask and apply when a prompt first asks (_envd_more): loaded here, as the tests
 * below call them directly.
 */
function hookFor(shell: Shell, bin = '/nonexistent/envd'): string {
  const ext = shell === 'bash' ? 'sh' : shell;
  const more = shell === 'bash' ? '_envd_more || exit 97\n' : '';
  return sb.write(`hooks/${shell}-${Math.random().toString(36).slice(2)}.${ext}`, hookScript(shell, bin) + more);
}

function run(shell: Shell, script: string, opts: { cwd?: string; env?: Record<string, string | undefined>; args?: string[] } = {}): { status: number | null; stdout: string; stderr: string } {
  const args = opts.args ?? (shell === 'bash' ? ['--noprofile', '--norc', '-c', script] : shell === 'zsh' ? ['-f', '-c', script] : ['--no-config', '-c', script]);
  return sb.run(shell, args, { cwd: opts.cwd ?? sb.mkdir('nowhere'), env: opts.env });
}

describe('lint', () => {
  // shellcheck, zsh -n and fish --no-execute: test/shell-files.test.ts, for every shell file.
  it.runIf(have.fish)('fish_indent: shells/fish/hook.fish', () => {
    const i = spawnSync('fish_indent', ['--check', hookFile('fish')], { encoding: 'utf8' });
    expect(i.status).toBe(0);
  });

  it('each file has the same sections and function names, and the binary path as the only substitution in fish', () => {
    const sections = (t: string): string[] => [...t.matchAll(/^# ---- ([a-z]+) -+$/gm)].map((m) => m[1] ?? '');
    const functions = (t: string): string[] => [...new Set([...t.matchAll(/^(?:function )?(_envd_[a-z]+)(?:\(\))?/gm)].map((m) => m[1] ?? ''))].sort();
    const texts = (['bash', 'zsh', 'fish'] as const).map((s) => readFileSync(hookFile(s), 'utf8'));
    const [bash, zsh, fish] = texts as [string, string, string];
    expect(sections(bash)).toEqual(['settings', 'paths', 'state', 'find', 'ask', 'apply', 'fallback', 'hook', 'register']);
    expect(sections(zsh)).toEqual(sections(bash));
    expect(sections(fish)).toEqual(sections(bash));
    const common = ['_envd_apply', '_envd_ask', '_envd_check', '_envd_env', '_envd_fallback', '_envd_find', '_envd_hook', '_envd_parse', '_envd_paths', '_envd_register', '_envd_unanswered'];
    for (const t of texts) {
      for (const f of common.filter((f) => f !== '_envd_register')) expect(functions(t)).toContain(f);
    }
    // bash and zsh are sourced where they are by the line `envd hook` prints; fish's text is printed.
    expect(fish.split(BIN_PLACEHOLDER)).toHaveLength(2);
    for (const t of [bash, zsh]) expect(t).not.toContain(BIN_PLACEHOLDER);
  });
});

describe('envd hook SHELL', () => {
  it('prints the file with the binary path quoted (fish), or one line that sources it where it is (bash, zsh)', () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const r = sb.envd(['hook', shell]);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toContain(BIN_PLACEHOLDER);
      if (shell === 'fish') {
        expect(r.stdout).toMatch(/^set -g _envd_bin '\/.*\/bin\/envd'$/m);
        continue;
      }
      // bash: the build's copy without comment lines (below), zsh the file where it is.
      const sourced = shell === 'bash' ? hookCopyPath(SHELLS.bash) : hookFile(shell);
      expect(sourcedHookFile(SHELLS[shell])).toBe(sourced);
      expect(r.stdout).toBe(`_envd_bin='${ENVD_BIN}'; _envd_kdef='.envrc'; builtin source '${sourced}'\n`);
      // What it defines, in the shell itself: the binary, the names, the hook's functions.
      const shown = run(shell, `eval "$(${ENVD_BIN} hook ${shell})"; print_it() { printf '%s|%s|%s\\n' "$_envd_bin" "$_envd_kline" "$(typeset -f _envd_hook >/dev/null && echo defined)"; }; print_it`);
      expect(shown.stderr).toBe('');
      expect(shown.stdout).toBe(`${ENVD_BIN}|.envrc|defined\n`);
    }
  });

  it.runIf(have.bash)('bash: the copy its line sources defines what the file and the file it sources define, and sets the same', () => {
    const copy = readFileSync(hookCopyPath(SHELLS.bash), 'utf8');
    expect(copy.split('\n').slice(1, -1).filter((l) => /^[ \t]*(#|$)/.test(l))).toEqual([]);
    expect(copy).not.toContain('run-dir.bash');
    // Functions as bash keeps them (declare -f: comments are gone), and every _envd_
    // variable loading sets; the file as it is, then the copy, each in a new interactive bash.
    // _envd_more loads the rest of the copy (a no-op in the file); itself, and the copy's
    // variables for it, differ by design (the next test).
    const show = (file: string): string => {
      const script = `printf '%s\n' "$$"; _envd_bin=/x/envd; _envd_kdef=.envrc; builtin source '${file}'; _envd_more || exit 97; ` +
        `for f in $(compgen -A function); do [[ $f == _envd_more ]] || declare -f "$f"; done; declare -p | grep -E '^declare [^ ]+ _envd_' | grep -v ' _envd_more_'; printf '%s\n' "\${PROMPT_COMMAND[@]}"`;
      const r = sb.run('bash', ['--noprofile', '--norc', '-i', '-c', script], { cwd: sb.mkdir('nowhere') });
      expect(r.status, r.stderr).toBe(0);
      // The shell's pid names its stamp files: the same text once it is taken out.
      const [pid = '', ...rest] = r.stdout.split('\n');
      return rest.join('\n').split(`/${pid}-`).join('/PID-');
    };
    const original = show(hookFile('bash'));
    expect(original).toContain('_envd_hook ()');
    expect(original).toContain('_envd_run_dir ()');
    expect(show(hookCopyPath(SHELLS.bash))).toBe(original);
  });

  it.runIf(have.bash)('bash: a new shell parses what asking needs only when a prompt first asks, and only from the same build', () => {
    const proj = sb.mkdir('lazy-proj');
    sb.write('lazy-proj/.envrc', 'export LAZY=yes\n');
    expect(sb.envd(['allow', proj]).status).toBe(0);
    const nowhere = sb.mkdir('lazy-nowhere');
    const script = (before: string): string => [
      `eval "$(${ENVD_BIN} hook bash)"`,
      before,
      `cd ${nowhere}`, '_envd_hook', 'declare -F _envd_ask >/dev/null && echo "nowhere: loaded" || echo "nowhere: not loaded"',
      `cd ${proj}`, '_envd_hook', 'declare -F _envd_ask >/dev/null && echo "project: loaded" || echo "project: not loaded"', 'echo "LAZY=${LAZY-}"',
    ].join('\n');
    const r = sb.run('bash', ['--noprofile', '--norc', '-i', '-c', script('')], { cwd: nowhere });
    expect(r.stdout, r.stderr).toBe('nowhere: not loaded\nproject: loaded\nLAZY=yes\n');
    // A second file of another build (the package changed under this shell): not loaded,
    // and `envd export bash` answers instead.
    const skew = sb.run('bash', ['--noprofile', '--norc', '-i', '-c', script('_envd_more_id=0000000000000000')], { cwd: nowhere });
    expect(skew.stdout, skew.stderr).toBe('nowhere: not loaded\nproject: not loaded\nLAZY=yes\n');
  });

  it('fish: the file without its blank and comment-only lines, every other line as it is and in order', () => {
    const lines = sb.envd(['hook', 'fish']).stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.filter((l) => /^[ \t]*(#|$)/.test(l))).toEqual([]);
    const file = readFileSync(hookFile('fish'), 'utf8').split('\n').filter((l) => !/^[ \t]*(#|$)/.test(l));
    expect(lines).toHaveLength(file.length);
    lines.forEach((l, i) => { if (!l.startsWith('set -g _envd_bin ') && !l.startsWith('set -g _envd_kdef ')) expect(l).toBe(file[i]); });
  });

  it('refuses other shells with a usage line', () => {
    const r = sb.envd(['hook', 'powershell']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^envd: hook needs one of: bash, zsh, fish/);
  });

  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it.runIf(have[shell])(`${shell}: a binary path with quotes, spaces, $ and a backslash comes through exactly`, () => {
      const bin = "/tmp/it's a \"dir\" $HOME `x` \\n/envd";
      const f = hookFor(shell, bin);
      const r = run(shell, shell === 'fish' ? `source ${f}; printf '%s' $_envd_bin` : `source ${f}; printf '%s' "$_envd_bin"`);
      expect(r.stdout).toBe(bin);
    });
  }
});

describe('loading', () => {
  const strict: Record<Shell, string> = {
    bash: 'set -euo pipefail; shopt -s nullglob failglob; IFS=:',
    zsh: 'setopt err_exit no_unset warn_create_global pipe_fail ksh_arrays sh_word_split; IFS=:',
    fish: 'set -g fish_features qmark-noglob',
  };

  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it.runIf(have[shell])(`${shell}: loads under strict options and prints nothing; the hook keeps $? and prints nothing where nothing changes`, () => {
      const f = hookFor(shell);
      const st = shell === 'fish' ? '$status' : '$?';
      const script = shell === 'fish'
        ? `${strict.fish}; source ${f}; source ${f}; false; _envd_hook; echo "st=${st}"; _envd_hook; echo "again=${st}"`
        : `${strict[shell]}; source ${f}; source ${f}; false || { _envd_hook || echo "st=${st}"; }; _envd_hook; echo "again=${st}"`;
      const r = run(shell, script);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('st=1\nagain=0\n');
      expect(r.status).toBe(0);
    });
  }

  it.runIf(have.bash)('bash: registers once in PROMPT_COMMAND, as a string or (bash 5.1+) an array', () => {
    const f = hookFor('bash');
    const asString = run('bash', `PROMPT_COMMAND='echo hi'; source ${f}; source ${f}; printf '%s|' "\${PROMPT_COMMAND[@]}"`, { args: ['--noprofile', '--norc', '-i', '-c', `PROMPT_COMMAND='echo hi'; source ${f}; source ${f}; printf '%s|' "\${PROMPT_COMMAND[@]}"`] });
    expect(asString.stdout).toBe('_envd_hook;echo hi|');
    const asArray = run('bash', '', { args: ['--noprofile', '--norc', '-i', '-c', `PROMPT_COMMAND=(one two); source ${f}; source ${f}; printf '%s|' "\${PROMPT_COMMAND[@]}"`] });
    expect(asArray.stdout).toBe('_envd_hook|one|two|');
    const unset = run('bash', '', { args: ['--noprofile', '--norc', '-i', '-c', `set -u; unset PROMPT_COMMAND; source ${f}; printf '%s|' "\${PROMPT_COMMAND[@]}"`] });
    expect(unset.stdout).toBe('_envd_hook|');
    const script = run('bash', `source ${f}; printf '%s' "\${PROMPT_COMMAND-none}"`);
    expect(script.stdout).toBe('none');
  });

  it.runIf(have.zsh)('zsh: registers once in precmd_functions and chpwd_functions', () => {
    const f = hookFor('zsh');
    const r = run('zsh', '', { args: ['-f', '-i', '-c', `precmd_functions=(mine); source ${f}; source ${f}; print -r -- "\${(j:,:)precmd_functions}|\${(j:,:)chpwd_functions}"`] });
    expect(r.stdout.trim()).toBe('_envd_hook,mine|_envd_chpwd');
  });

  it.runIf(have.fish)('fish: the prompt and PWD handlers exist in interactive shells only', () => {
    const f = hookFor('fish');
    const i = run('fish', '', { args: ['--no-config', '-i', '-c', `source ${f}; source ${f}; functions -q _envd_on_prompt _envd_on_pwd; and echo yes`] });
    expect(i.stdout.trim()).toBe('yes');
    const n = run('fish', `source ${f}; functions -q _envd_on_prompt; or echo no`);
    expect(n.stdout.trim()).toBe('no');
  });

  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it.runIf(have[shell])(`${shell}: computes the runtime dir as src/config/paths.ts does`, () => {
      const f = hookFor(shell);
      const show = shell === 'fish' ? `source ${f}; printf '%s' $_envd_run` : `source ${f}; printf '%s' "$_envd_run"`;
      const uid = String(process.getuid?.() ?? 0);
      const cases: Array<[Record<string, string | undefined>, string]> = [
        [{ ENVD_RUNTIME_DIR: '/x/rt', XDG_RUNTIME_DIR: '/run/user/1' }, '/x/rt'],
        [{ ENVD_RUNTIME_DIR: '', XDG_RUNTIME_DIR: '/run/user/1/' }, '/run/user/1/envd'],
        [{ ENVD_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: undefined, TMPDIR: '/var/tmp/', TMP: '/nope' }, `/var/tmp/envd-${uid}`],
        [{ ENVD_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: '', TMPDIR: '', TMP: '/tmp2', TEMP: '/nope' }, `/tmp2/envd-${uid}`],
        [{ ENVD_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: undefined, TMPDIR: undefined, TMP: undefined, TEMP: undefined }, `/tmp/envd-${uid}`],
      ];
      for (const [env, want] of cases) expect(run(shell, show, { env }).stdout).toBe(want);
    });
  }
});

// ---- the reply parser and applier, driven directly -----------------------------------------

const ID = '12';

function sampleReply(values: Record<string, string>, extra: HookRecord[] = []): Buffer {
  const records: HookRecord[] = [
    { t: 'm', text: 'envd: loading ~/p/.envrc' },
    ...Object.entries(values).map(([name, value]): HookRecord => ({ t: 'x', name, value })),
    { t: 'u', name: 'GONE' },
    ...extra,
    { t: 'k', markers: ['.envrc'] },
    { t: 'g', generation: 77 },
  ];
  return Buffer.concat([encodeReplyHead(ID, [{ t: 'w', ms: 200 }]), encodeReplyTail(ID, records)]);
}

/** Per shell: parse each file as a reply to ID; print "<status> <file>". */
function parseScript(shell: Shell, f: string, files: string[]): string {
  const list = files.join(' ');
  switch (shell) {
    case 'bash':
      return `source ${f}; _envd_id=${ID}; for x in ${list}; do mapfile -d '' -t _envd_rep < "$x"; _envd_parse; echo "$? \${x##*/}"; done`;
    case 'zsh':
      // The socket path's own completeness check (_envd_recv), reading the file as the socket.
      return `source ${f}; _envd_id=${ID}; typeset -F _envd_dl; for x in ${list}; do _envd_buf=''; _envd_prc=4; exec {_envd_fd}<$x; (( _envd_dl = EPOCHREALTIME + 0.3 )); if _envd_recv answer; then echo "$_envd_prc \${x:t}"; else echo "T \${x:t}"; fi; exec {_envd_fd}<&-; done`;
    case 'fish':
      return `source ${f}; set -g _envd_id ${ID}; for x in ${list}; set -g _envd_rep (string split0 < $x); _envd_parse; set -l st $status; echo "$st "(basename $x); end`;
  }
}

describe('answers cut off at any byte change nothing', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it.runIf(have[shell])(`${shell}: every strict prefix of an answer is refused; the whole one is accepted`, () => {
      const full = sampleReply({ A: 'one', B: 'two\nlines', C: '' }, [{ t: 'p' }]);
      const d = sb.mkdir(`cuts-${shell}`);
      const files: string[] = [];
      for (let i = 0; i <= full.length; i++) {
        const p = join(d, `c${String(i).padStart(4, '0')}`);
        writeFileSync(p, full.subarray(0, i));
        files.push(p);
      }
      const r = run(shell, parseScript(shell, hookFor(shell), files));
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(files.length);
      for (const line of lines) {
        const [status, name] = line.split(' ');
        const cut = Number((name ?? '').slice(1));
        // Only the last byte (the final NUL) may be missing for the data to be complete:
        // everything is there, so accepting it applies exactly the whole answer.
        if (cut >= full.length - 1 && shell !== 'zsh') expect(status, line).toBe('0');
        else if (cut === full.length) expect(status, line).toBe('0');
        else expect(status, line).not.toBe('0');
      }
    });
  }
});

const hostile = fc.string({ unit: fc.oneof(
  fc.constantFrom('\\', "'", '"', '\n', '\r', '\t', '$', '(', ')', '`', '%', '-', ' ', '*', '?', '[', ']', '{', '}', '~', '!', '#', ';', '&', '|', '<', '>', '\u001b', '\u007f', '\u0001', 'é', '€', '😀', '\u2028', '\ufeff'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
), maxLength: 40 }).filter((s) => !s.includes('\0'));

describe('values round-trip byte for byte through the records path', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it.runIf(have[shell])(`${shell}: ${shell === 'fish' ? 600 : 1000} hostile values, applied and exported exactly`, () => {
      const n = shell === 'fish' ? 600 : 1000;
      const fixed = ['a\\', '\\', "it's", '"q"', '$(touch /tmp/pwned)', '`id`', '%self', '-n', '--', '\u001b[31mred', 'line1\nline2', '\n', ' lead', 'trail ', '', 'é😀', '${HOME}', '*', '~'];
      const values = [...fixed, ...fc.sample(hostile, { numRuns: n - fixed.length, seed: 42 })];
      const env: Record<string, string> = {};
      values.forEach((v, i) => { env[`V${i}`] = v; });
      const reply = sb.write(`vals-${shell}.bin`, sampleReply(env));
      const out = sb.path(`vals-${shell}.env`);
      const f = hookFor(shell);
      const script = shell === 'bash'
        ? `source ${f}; _envd_id=${ID}; export GONE=x; mapfile -d '' -t _envd_rep < ${reply}; _envd_parse && _envd_apply 2>/dev/null; env -0 > ${out}`
        : shell === 'zsh'
          ? `source ${f}; _envd_id=${ID}; export GONE=x; _envd_rep=("\${(@0)$(<${reply})}"); _envd_rep[-1]=(); _envd_parse && _envd_apply 2>/dev/null; env -0 > ${out}`
          : `source ${f}; set -g _envd_id ${ID}; set -gx GONE x; set -g _envd_rep (string split0 < ${reply}); _envd_parse; and _envd_apply 2>/dev/null; env -0 > ${out}`;
      const r = run(shell, script);
      expect(r.stderr).toBe('');
      const got = new Map<string, string>();
      for (const entry of readFileSync(out).toString('utf8').split('\0')) {
        const eq = entry.indexOf('=');
        if (eq > 0) got.set(entry.slice(0, eq), entry.slice(eq + 1));
      }
      expect(got.has('GONE')).toBe(false);
      for (const [k, v] of Object.entries(env)) expect(got.get(k), `${k}=${JSON.stringify(v)}`).toBe(v);
    });
  }

  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it.runIf(have[shell])(`${shell}: names that are not valid, or are the hook's own, are never applied`, () => {
      // encodeReply refuses nothing here on purpose: the shell must check by itself.
      const records: HookRecord[] = [{ t: 'x', name: 'OK_1', value: 'y' }];
      const bad = Buffer.concat([
        encodeReplyHead(ID),
        Buffer.from('x\0a-b\0v\0x\0_envd_pwd\0/evil\0x\0$(id)\0v\0u\0PATH=x\0'),
        encodeReplyTail(ID, records),
      ]);
      const p = sb.write(`bad-${shell}.bin`, bad);
      const f = hookFor(shell);
      const show = shell === 'fish'
        ? `source ${f}; set -g _envd_id ${ID}; set -g _envd_rep (string split0 < ${p}); _envd_parse; and _envd_apply; printf '%s|%s' "$OK_1" "$_envd_pwd"`
        : shell === 'bash'
          ? `source ${f}; _envd_id=${ID}; mapfile -d '' -t _envd_rep < ${p}; _envd_parse && _envd_apply; printf '%s|%s' "$OK_1" "$_envd_pwd"`
          : `source ${f}; _envd_id=${ID}; _envd_rep=("\${(@0)$(<${p})}"); _envd_rep[-1]=(); _envd_parse && _envd_apply; printf '%s|%s' "$OK_1" "$_envd_pwd"`;
      const r = run(shell, show);
      expect(r.stdout).toBe('y|');
    });
  }

  it('`v` (the daemon does not speak this hook version) sends every shell to the CLI (status 3), nothing applied', () => {
    const v = encodeReply(ID, [{ t: 'v', version: 2 }]);
    for (const shell of (['bash', 'zsh', 'fish'] as const).filter((s) => have[s])) {
      const p = sb.write(`v-${shell}.bin`, v);
      const r = run(shell, parseScript(shell, hookFor(shell), [p]));
      expect(r.stdout.split(' ')[0], shell).toBe('3');
    }
  });

  it('a reply to another request id is refused by every shell', () => {
    const other = encodeReply('13', [{ t: 'x', name: 'A', value: '1' }]);
    for (const shell of (['bash', 'zsh', 'fish'] as const).filter((s) => have[s])) {
      const p = sb.write(`other-${shell}.bin`, other);
      const r = run(shell, parseScript(shell, hookFor(shell), [p]));
      expect(r.stdout.split(' ')[0], shell).not.toBe('0');
    }
  });
});

describe("bash's environment through `declare -px` (its FIFO requests)", () => {
  for (const locale of ['C.UTF-8', 'C']) {
    it.runIf(have.bash)(`LC_ALL=${locale}: 1000 hostile values read back byte for byte, bytes that are not UTF-8 too`, () => {
      const fixed = ['a\\', '\\', "it's", '"q"', '$(touch /tmp/pwned)', '`id`', '%self', '-n', '\u001b[31mred', 'line1\nline2', '\n', '', 'é😀', '\r', '\u2028', '\ufeffbom', '\u0001\u007f'];
      const values = [...fixed, ...fc.sample(hostile, { numRuns: 1000 - fixed.length, seed: 7 })];
      const env: Record<string, string> = {};
      values.forEach((v, i) => { env[`V${i}`] = v; });
      const out = sb.path(`declare-${locale}.txt`);
      const r = sb.run('bash', ['--noprofile', '--norc', '-c', `export RAW=$'\\xff\\xfe raw' HALF=$'\\xc3'; export -n NOTX; declare -ax ARR=(1 2); declare -px > ${out}; echo '#envd 5' >> ${out}`], { env: { ...env, LC_ALL: locale } });
      expect(r.stderr).toBe('');
      const parsed = parseDeclarePx(readFileSync(out), '5');
      for (const [k, v] of Object.entries(env)) expect(parsed.env[k], `${k}=${JSON.stringify(v)}`).toBe(v);
      expect(parsed.env.RAW).toBe('\udcff\udcfe raw');
      expect(parsed.env.HALF).toBe('\udcc3');
      expect(parsed.env.ARR).toBeUndefined();
    });
  }
});

describe('no daemon, nothing to load', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it.runIf(have[shell])(`${shell}: moving between directories without env files asks nobody and prints nothing`, () => {
      const f = hookFor(shell, '/bin/false-envd-must-not-run');
      const a = sb.mkdir('plain/a');
      const b = sb.mkdir('plain/b/c');
      const script = shell === 'fish'
        ? `source ${f}; _envd_hook; cd ${b}; _envd_hook; cd ${a}; _envd_hook; echo done`
        : `source ${f}; _envd_hook; cd ${b}; _envd_hook; cd ${a}; _envd_hook; echo done`;
      const r = run(shell, script, { cwd: a });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('done\n');
    });
  }
});

