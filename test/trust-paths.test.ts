import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENVD_BIN, Sandbox, haveShell, type RunResult, type Shell } from './helpers/sandbox.js';
import { connectAs } from './helpers/daemon-client.js';
import { ProtocolError } from '../src/protocol/errors.js';

/**
 * Paths are bytes and messages never print raw control characters taken
 * from names.
 *
 * `caf\xe9` (Latin-1) and `caf\xef\xbf\xbd` (UTF-8 for U+FFFD, what Node's lossy decoding
 * turns the first into) are two different directories with different .envrc files, the
 * second one approved. In the first, every verb and every hook refuses with a message that
 * names the directory (escaped) and never loads, approves or runs the second.
 */

const LATIN = 'caf\\351'; // printf format of the directory whose name is not UTF-8
const LOOKALIKE = 'caf\\357\\277\\275'; // its look-alike: U+FFFD in UTF-8
const SHELLS: Shell[] = ['bash', 'zsh', 'fish'];
/** C0 controls except the newline that ends lines, and DEL: never raw in a message. */
 
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;

/** `cd` into a directory named by a printf format, in bash, then run CMD. */
function inDir(sb: Sandbox, fmt: string, cmd: string, env: Record<string, string | undefined> = {}): RunResult {
  return sb.shell('bash', `cd -- "${sb.root}/$(printf '${fmt}')" || exit 99\n${cmd}`, { env });
}

function envd(args: string): string {
  return `${ENVD_BIN} ${args}`;
}

function expectRefusal(r: RunResult): void {
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(/caf\\xe9 is not UTF-8; envd cannot act on a directory whose name is not UTF-8/);
  expect(r.stderr).not.toContain('internal error');
  expect(r.stdout).not.toContain('lookalike');
}

describe('a directory whose name is not UTF-8, beside its look-alike', () => {
  for (const daemon of [false, true]) {
    describe(daemon ? 'with the daemon' : 'without a daemon (in-process)', () => {
      let sb: Sandbox;
      beforeAll(() => {
        sb = new Sandbox({ daemon });
        sb.write('home/.config/envd/envd.toml', '[global]\nasync_budget = "10s"\n', 0o644);
        // umask 022: group-writable files are another matter (file safety), not this test's.
        const mk = sb.shell('bash', [
          `umask 022; cd ${sb.root}`,
          `mkdir "$(printf '${LATIN}')" "$(printf '${LOOKALIKE}')" && ln -s "$(printf '${LATIN}')" link`,
          `echo 'export WHICH=latin1' > "$(printf '${LATIN}')/.envrc"`,
          `echo 'export WHICH=lookalike; touch "$HOME/lookalike-ran"' > "$(printf '${LOOKALIKE}')/.envrc"`,
        ].join('\n'));
        expect(mk.status, mk.stderr).toBe(0);
        // The look-alike is approved on purpose: acting on it would load it.
        expect(inDir(sb, LOOKALIKE, envd('allow')).status).toBe(0);
        if (daemon) expect(sb.envd(['daemon', 'start']).status).toBe(0);
      }, 60_000);
      afterAll(() => { sb?.cleanup(); });

      const lookalikeRan = (): boolean => {
        try { readFileSync(join(sb.home, 'lookalike-ran')); return true; } catch { return false; }
      };

      it('envd allow, deny, export, status, edit and exec refuse, naming the directory; the look-alike is never touched', () => {
        const before = readFileSync(join(sb.home, '.local/share/envd/allowlist.json'));
        for (const cmd of ['allow', 'deny', 'export bash', 'export zsh', 'export fish', 'export json', 'status', 'exec . sh -c "echo $WHICH"']) {
          const r = inDir(sb, LATIN, envd(cmd));
          expectRefusal(r);
        }
        const edit = inDir(sb, LATIN, envd('edit'), { EDITOR: 'true', VISUAL: 'true' });
        expectRefusal(edit);
        expect(readFileSync(join(sb.home, '.local/share/envd/allowlist.json')).equals(before)).toBe(true);
        expect(lookalikeRan()).toBe(false);
      });

      it('the directory as an argument (allow PATH, exec DIR) is refused by name, never decoded to the look-alike', () => {
        for (const cmd of [`allow "$(printf '${sb.root}/${LATIN}')"`, `deny "$(printf '${LATIN}/.envrc')"`, `exec "$(printf '${LATIN}')" sh -c 'echo $WHICH'`]) {
          const r = sb.shell('bash', `cd ${sb.root}; ${envd(cmd)}`);
          expect(r.status, cmd).toBe(2);
          expect(r.stderr).toMatch(/the argument .*caf\\xe9.* is not UTF-8/);
          expect(r.stdout).not.toContain('lookalike');
        }
        expect(lookalikeRan()).toBe(false);
      });

      it('a UTF-8 symlink to it: the real path is not UTF-8, so allow and export refuse', () => {
        const allow = sb.shell('bash', `cd ${sb.root}/link && ${envd('allow')}`);
        expect(allow.status).not.toBe(0);
        expect(allow.stderr).toMatch(/link(\/\.envrc)? resolves to .*caf\\xe9(\/\.envrc)?, which is not UTF-8/);
        const exp = sb.shell('bash', `cd ${sb.root}/link && ${envd('export json')}`);
        expect(exp.stderr).toMatch(/link(\/\.envrc)? resolves to .*caf\\xe9(\/\.envrc)?, which is not UTF-8/);
        expect(exp.stdout).not.toContain('WHICH');
        expect(lookalikeRan()).toBe(false);
      });

      for (const shell of SHELLS) {
        it.runIf(haveShell(shell))(`${shell} hook: refuses with the directory named, loads nothing`, () => {
          const hook = sb.write(`hook-${shell}`, sb.envd(['hook', shell]).stdout);
          const cd = shell === 'fish' ? `cd ${sb.root}/(printf '${LATIN}' | string collect)` : `cd "${sb.root}/$(printf '${LATIN}')"`;
          const show = shell === 'fish' ? 'echo "WHICH=$WHICH"' : 'echo "WHICH=${WHICH-}"';
          const r = sb.shell(shell, `source ${hook}\n${cd}\n_envd_hook\n${show}`);
          expect(r.stderr).toMatch(/caf\\xe9 is not UTF-8; envd cannot act on a directory whose name is not UTF-8/);
          expect(r.stdout).toBe('WHICH=\n');
          expect(lookalikeRan()).toBe(false);
        });
      }

      it.runIf(daemon)('a JSON request for it (the CLI protocol) is refused by name', async () => {
        const c = await connectAs(sb, 5000);
        try {
          const err = await c.request({ type: 'export', req: { cwd: `${sb.root}/caf\udce9`, env: {} }, budgetMs: null }, 10_000).then(() => null, (e: unknown) => e);
          expect(err).toBeInstanceOf(ProtocolError);
          expect((err as ProtocolError).envdCode).toBe('PATH_NOT_UTF8');
          expect((err as ProtocolError).message).toMatch(/caf\\xe9 is not UTF-8/);
        } finally {
          c.close();
        }
        expect(lookalikeRan()).toBe(false);
      });
    });
  }
});

describe('a directory deeper than PATH_MAX', () => {
  let sb: Sandbox;
  let deep: string;
  beforeAll(() => {
    sb = new Sandbox();
    sb.write('home/.config/envd/envd.toml', '[global]\nasync_budget = "10s"\n', 0o644);
    sb.write('top/.envrc', 'export DEEP=1\n', 0o644);
    expect(sb.envd(['allow', sb.path('top')]).status).toBe(0);
    // 50 levels of 90 characters: a 4.6 KB path, which no system call accepts whole.
    const mk = sb.shell('bash', `cd ${sb.path('top')} && for i in $(seq 50); do mkdir d${'x'.repeat(89)} && cd d${'x'.repeat(89)} || exit 1; done`);
    expect(mk.status, mk.stderr).toBe(0);
    deep = `${sb.path('top')}${`/d${'x'.repeat(89)}`.repeat(50)}`;
    expect(sb.envd(['daemon', 'start']).status).toBe(0);
  }, 60_000);
  // Node's rm cannot name the deepest files; rm -rf walks down relative to each directory.
  afterAll(() => { sb?.shell('bash', `rm -rf ${sb.path('top')}`); sb?.cleanup(); });

  const cdDeep = (): string => `cd ${sb.path('top')} && for i in $(seq 50); do cd d${'x'.repeat(89)}; done && [ "$PWD" = '${deep}' ] || exit 99`;

  it('envd export says so in one clear line (not "internal error: ERANGE")', () => {
    for (const env of [{}, { ENVD_NO_DAEMON: '1' }]) {
      const r = sb.shell('bash', `${cdDeep()}\n${envd('export bash')}`, { env });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('envd: the current directory\'s path is longer than the system allows a program to use (PATH_MAX, 4096 bytes); run envd from a shallower directory\n');
    }
  });

  it.runIf(haveShell('bash'))('the bash hook, through the daemon, loads the .envrc above it', () => {
    const hook = sb.write('hook-bash', sb.envd(['hook', 'bash']).stdout);
    // A new shell waits 0.7 s for its first answer (it learns the daemon's budget from
    // it); on a loaded machine the first evaluation can take longer, and the next prompt
    // then gets it. What is tested here is the path, not that latency.
    const r = sb.shell('bash', `source ${hook}\n${cdDeep()}\n_envd_hook\n[ -n "\${DEEP-}" ] || _envd_hook\necho "DEEP=\${DEEP-}"`);
    expect(r.stdout).toBe('DEEP=1\n');
    expect(r.stderr).toContain('envd: loading');
  });
});

describe('names with ESC and newline are shown escaped in every message', () => {
  let sb: Sandbox;
  const NAME = 'evil\\033[2J\\033]0;pwned\\007\\nenvd: fake line';
  const SHOWN = 'evil\\x1b[2J\\x1b]0;pwned\\x07\\x0aenvd: fake line';
  // fish's hook does not find an .envrc below a directory whose name has a newline (its
  // walk up splits command output at newlines: a limit of the hooks' path handling);
  // fish is checked with ESC and other controls.
  const FISH_NAME = 'evil\\033[2J\\033]0;pwned\\007\\tx';
  const FISH_SHOWN = 'evil\\x1b[2J\\x1b]0;pwned\\x07\\x09x';
  beforeAll(() => {
    sb = new Sandbox();
    const mk = sb.shell('bash', `umask 022; cd ${sb.root} && d="$(printf '${NAME}')" && mkdir "$d" "$d/unsafe" && echo 'export EVIL=1; log_status "in $PWD"' > "$d/.envrc" && echo 'export U=1' > "$d/unsafe/.envrc" && chmod 666 "$d/unsafe/.envrc" && f="$(printf '${FISH_NAME}')" && mkdir "$f" && echo 'export EVIL=1' > "$f/.envrc"`);
    expect(mk.status, mk.stderr).toBe(0);
    expect(sb.envd(['daemon', 'start']).status).toBe(0);
  }, 60_000);
  afterAll(() => { sb?.cleanup(); });

  const clean = (text: string): void => {
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).not.toMatch(/^envd: fake line/m);
  };

  it('envd allow: a refusal names the file escaped', () => {
    const r = inDir(sb, `${NAME}/unsafe`, envd('allow'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(SHOWN);
    clean(r.stderr);
  });

  it('envd status shows the path escaped', () => {
    const r = inDir(sb, NAME, envd('status'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(SHOWN);
    clean(r.stdout);
    clean(r.stderr);
  });

  for (const shell of SHELLS) {
    for (const daemon of [true, false]) {
      it.runIf(haveShell(shell))(`${shell} hook${daemon ? '' : ' (envd export fallback)'}: the blocked message shows the path escaped`, () => {
        const hook = sb.write(`hook-${shell}`, sb.envd(['hook', shell]).stdout);
        const cd = shell === 'fish' ? `cd ${sb.root}/(printf '${FISH_NAME}' | string collect)` : `cd "${sb.root}/$(printf '${NAME}')"`;
        const r = sb.shell(shell, `source ${hook}\n${cd}\n_envd_hook`, { env: daemon ? {} : { ENVD_NO_DAEMON: '1' } });
        expect(r.stderr).toContain(`${shell === 'fish' ? FISH_SHOWN : SHOWN}/.envrc is blocked`);
        clean(r.stderr);
      });
    }
  }

  it('envd allow then export: the loading line and the file\'s own output show the path escaped', () => {
    expect(inDir(sb, NAME, envd('allow')).status).toBe(0);
    const r = inDir(sb, NAME, envd('export bash'), { ENVD_NO_DAEMON: '1' });
    expect(r.stderr).toContain(`envd: loading ${sb.root}/${SHOWN}/.envrc`);
    // The file's own output names the directory too (the stdlib prints paths it is given).
    expect(r.stderr).toContain(`envd: in ${sb.root}/${SHOWN}\n`);
    clean(r.stderr);
    // The shell code itself writes the path's control characters as escapes, too.
    clean(r.stdout);
  });
});
