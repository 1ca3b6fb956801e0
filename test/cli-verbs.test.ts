import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, Sandbox, haveShell, type Shell } from './helpers/sandbox.js';
import { VERBS } from '../src/cli/verbs.js';
import { completionTable } from '../src/cli/completion-table.js';
import { allShells, COMPLETION_SHELLS, EXPORT_FORMATS } from '../src/shells/index.js';
import { withGeneratedSection } from '../src/shells/generated.js';
import { BIN_PLACEHOLDER, MARKERS_PLACEHOLDER, withoutCommentLines } from '../src/shells/files.js';

/**
 * One spec per verb (src/cli/verbs.ts): help and every shell's completion offer each verb,
 * alias and second-level verb of it; the completion files hold the table the specs make
 * today; `envd completion` and `envd hook` print the real files by plain substitution.
 */

let sb: Sandbox;
beforeAll(() => { sb = new Sandbox({ daemon: false }); });
afterAll(() => sb.cleanup());

const names = VERBS.flatMap((v) => [v.name, ...(v.aliases ?? [])]);

describe('envd --help', () => {
  it('lists every verb and alias, each second-level verb and each choice of a word argument', () => {
    const r = sb.envd(['--help']);
    expect(r.status).toBe(0);
    const words = new Set(r.stdout.split(/[\s|,()[\]]+/));
    expect(names.filter((n) => !words.has(n))).toEqual([]);
    for (const v of VERBS) {
      for (const s of v.subcommands ?? []) expect(words, `${v.name} ${s.name}`).toContain(s.name);
      for (const a of v.args ?? []) if (a.kind === 'words') for (const w of a.words) expect(words, `${v.name} ${w}`).toContain(w);
    }
    // The two the hand-written help left out.
    expect(r.stdout).toMatch(new RegExp(`^ {2}export ${EXPORT_FORMATS.join('\\|')}\\b`, 'm'));
    expect(r.stdout).toMatch(/^ {2}daemon start\|.*\|install /m);
  });

  it('`envd help` prints the same, exit 0; no verb prints it with exit 2', () => {
    const a = sb.envd(['--help']);
    const b = sb.envd(['help']);
    const c = sb.envd([]);
    expect(b.stdout).toBe(a.stdout);
    expect(b.status).toBe(0);
    expect(c.stdout).toBe(a.stdout);
    expect(c.status).toBe(2);
  });
});

/** The shells envd has a completion file for (elvish, tcsh and nushell have none yet). */
const withCompletion = allShells().flatMap((s) => (s.completionFile === null || s.completionTable === null ? [] : [{ name: s.name, file: s.completionFile, table: s.completionTable }]));

describe('completion files', () => {
  it('hold the verb table the specs make (run `npm run completions` after changing a verb)', () => {
    const table = completionTable();
    for (const shell of withCompletion) {
      const text = readFileSync(join(ROOT, shell.file), 'utf8');
      expect(withGeneratedSection(text, shell.table(table)), shell.file).toBe(text);
    }
  });

  it('`envd completion SHELL` prints the file as it is', () => {
    for (const shell of withCompletion) {
      const r = sb.envd(['completion', shell.name]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(readFileSync(join(ROOT, shell.file), 'utf8'));
    }
  });

  it('`envd completion` takes exactly the shells with a completion file; the others are usage errors', () => {
    expect(withCompletion.map((s) => s.name)).toEqual([...COMPLETION_SHELLS]);
    for (const shell of allShells().filter((s) => s.completionFile === null)) {
      const r = sb.envd(['completion', shell.name]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain("'envd completion bash'");
    }
  });

  /** The first-level words a shell's completion offers, asked of the real shell. */
  const offered: Record<Shell, (file: string) => string> = {
    bash: (file) => `source '${file}'; printf '%s\\n' $_envd_verbs`,
    zsh: (file) => `source '${file}' 2>/dev/null; local -a verbs; _envd_verbs; print -rl -- \${verbs%%:*}`,
    fish: (file) => `source '${file}'; __envd_verbs | string replace -r '\\t.*' ''`,
  };

  it('every shell with a completion file is asked below', () => {
    expect(withCompletion.map((s) => s.name)).toEqual(Object.keys(offered));
  });

  for (const name of Object.keys(offered) as Shell[]) {
    it.runIf(haveShell(name))(`${name} offers every verb and alias, and every second-level verb`, () => {
      const file = join(ROOT, withCompletion.find((s) => s.name === name)?.file ?? '');
      const r = sb.shell(name, offered[name](file));
      expect(r.status).toBe(0);
      const got = r.stdout.split('\n').filter((l) => l !== '');
      expect(names.filter((n) => !got.includes(n))).toEqual([]);
      const text = readFileSync(file, 'utf8');
      for (const v of VERBS) for (const s of v.subcommands ?? []) expect(text, `${v.name} ${s.name}`).toContain(`${v.name} ${s.name}`);
    });
  }
});

describe('envd hook SHELL', () => {
  it('prints the real file with only its two placeholders replaced, each by one quoted word', () => {
    for (const shell of allShells().filter((s) => s.hookText === undefined)) {
      const file = readFileSync(join(ROOT, shell.hookFile), 'utf8');
      // fish's is printed without its comment-only and blank lines (src/shells/files.ts).
      const text = shell.hookDropsComments === true ? withoutCommentLines(file) : file;
      // bash, zsh and fish quote these words with '…', elvish and nushell with "…".
      const q = shell.quote('x').charAt(0);
      const bin = new RegExp(`${q}/[^${q}\\n]*/bin/envd${q}`, 'y');
      const word = new RegExp(`${q}[^${q}\\n]*${q}`, 'y');
      // The file's text, with the placeholders as the patterns of what replaces them.
      const pieces: Array<string | RegExp> = [];
      text.split(BIN_PLACEHOLDER).forEach((part, i) => {
        if (i > 0) pieces.push(bin);
        part.split(MARKERS_PLACEHOLDER).forEach((lit, j) => {
          if (j > 0) pieces.push(word);
          pieces.push(lit);
        });
      });
      expect(pieces.filter((p) => typeof p !== 'string'), shell.name).toHaveLength(2);
      const r = sb.envd(['hook', shell.name]);
      expect(r.status).toBe(0);
      let at = 0;
      for (const p of pieces) {
        if (typeof p === 'string') {
          expect(r.stdout.slice(at, at + p.length), `${shell.name} at ${at}`).toBe(p);
          at += p.length;
        } else {
          p.lastIndex = at;
          const m = p.exec(r.stdout);
          expect(m, `${shell.name}: a quoted word at ${at}`).not.toBeNull();
          at += m?.[0].length ?? 0;
        }
      }
      expect(at, shell.name).toBe(r.stdout.length);
    }
  });

  it('tcsh: one line that names the binary and sources the hook file where it is', () => {
    const r = sb.envd(['hook', 'tcsh']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^set _envd_bin = '\/[^'\n]*\/bin\/envd'; set _envd_kline = '[^'\n]*'; set _envd_self = '([^'\n]*)'; source "\$_envd_self"\n$/);
    expect(r.stdout).toContain(`'${join(ROOT, 'shells/tcsh/hook.tcsh')}'`);
  });
});
