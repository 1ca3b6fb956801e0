import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox, haveShell } from './helpers/sandbox.js';
import { verbIndex } from '../src/cli/verbs.js';

// `envd completion bash|zsh|fish` through the real binary, loaded into the real shells and
// asked for completions the way each shell asks when a person presses Tab.

let sb: Sandbox;
const scripts: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };

function completion(shell: string): { status: number | null; stdout: string; stderr: string } {
  const r = sb.envd(['completion', shell]);
  if (r.stderr.includes("unknown command 'completion'")) {
    throw new Error("the verb 'completion' is not registered: add its spec to src/cli/verbs.ts");
  }
  return r;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/completion.js'))) throw new Error(`dist/ is not built: run 'npm run build' first (${ENVD_BIN} loads dist/)`);
  sb = new Sandbox({ daemon: false });
  // Something for file and directory completion to find.
  sb.write('work/notes.txt', 'x');
  sb.write('work/with space.txt', 'x');
  sb.mkdir('work/subdir');
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const r = completion(shell);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    scripts[shell] = sb.write(`completion.${shell}`, r.stdout);
  }
});
afterAll(() => sb.cleanup());

/** Every verb the CLI dispatches, aliases included (the specs in src/cli/verbs.ts). */
function cliVerbs(): string[] {
  return [...verbIndex().keys()];
}

/** The verbs this issue lists (direnv's and envd's), whether or not the table has them yet. */
const REQUIRED = ['hook', 'allow', 'permit', 'grant', 'deny', 'block', 'revoke', 'disallow', 'export', 'exec', 'status', 'reload', 'edit', 'prune',
  'stdlib', 'version', 'go', 'daemon', 'doctor', 'completion', 'dump', 'apply_dump', 'show_dump', 'watch', 'watch-dir', 'watch-list', 'watch-print',
  'dotenv', 'current', 'fetchurl'];

describe('what is completed', () => {
  function bashTop(): string[] {
    const r = sb.shell('bash', `source ${scripts.bash}; COMP_WORDS=(envd ''); COMP_CWORD=1; _envd; printf '%s\\n' "\${COMPREPLY[@]}"`);
    expect(r.stderr).toBe('');
    return r.stdout.trim().split('\n');
  }

  it('every verb of the CLI verb table, and every verb the issue lists', () => {
    const offered = bashTop();
    const verbs = cliVerbs();
    expect(verbs.length).toBeGreaterThan(10);
    expect(verbs.filter((v) => !offered.includes(v))).toEqual([]);
    expect(REQUIRED.filter((v) => !offered.includes(v))).toEqual([]);
  });

  it('nothing the CLI does not have (once doctor and completion are registered)', () => {
    const verbs = new Set([...cliVerbs(), 'help']);
    expect(bashTop().filter((v) => !verbs.has(v))).toEqual([]);
  });
});

describe('bash', () => {
  beforeAll(() => { haveShell('bash'); });

  function complete(...words: string[]): string[] {
    const arr = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = sb.shell('bash', `source ${scripts.bash}; COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _envd; printf '%s\\n' "\${COMPREPLY[@]}"`, { cwd: sb.path('work') });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter((l) => l !== '').sort();
  }

  it('loads without a word on stderr, under set -u too, and registers for envd', () => {
    const r = sb.shell('bash', `set -u; source <(${ENVD_BIN} completion bash); complete -p envd`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('complete -F _envd envd');
  });

  it('is clean under shellcheck (when installed)', () => {
    if (spawnSync('sh', ['-c', 'command -v shellcheck']).status !== 0) {
      process.stderr.write('[envd tests] SKIPPED: shellcheck is not installed; completion lint skipped\n');
      return;
    }
    const r = spawnSync('shellcheck', ['-s', 'bash', scripts.bash], { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('verbs, subcommands, options and arguments', () => {
    expect(complete('envd', 'ex')).toEqual(['exec', 'export']);
    expect(complete('envd', 'export', '')).toEqual(['bash', 'elvish', 'fish', 'gha', 'json', 'nushell', 'tcsh', 'zsh']);
    expect(complete('envd', 'export', '-')).toEqual(['--budget']);
    expect(complete('envd', 'go', '')).toEqual(['install', 'list', 'uninstall', 'which']);
    expect(complete('envd', 'go', 'which', '--')).toEqual(['--dir', '--json']);
    expect(complete('envd', 'daemon', '')).toEqual(['install', 'logs', 'restart', 'run', 'start', 'status', 'stop']);
    expect(complete('envd', 'daemon', 'status', '-')).toEqual(['--json']);
    expect(complete('envd', 'daemon', 'install', '--platform', '')).toEqual(['darwin', 'linux']);
    expect(complete('envd', 'status', '-')).toEqual(['--json']);
    expect(complete('envd', 'doctor', '-')).toEqual(['--json', '--no-start']);
    expect(complete('envd', 'completion', '')).toEqual(['bash', 'fish', 'zsh']);
    expect(complete('envd', 'hook', 'f')).toEqual(['fish']);
    expect(complete('envd', 'dump', '')).toEqual(['bash', 'elvish', 'fish', 'gzenv', 'json', 'nushell', 'tcsh', 'zsh']);
  });

  it('files and directories where a path goes, spaces kept whole', () => {
    expect(complete('envd', 'allow', '')).toEqual(['notes.txt', 'subdir', 'with space.txt']);
    expect(complete('envd', 'exec', '')).toEqual(['subdir']);
    expect(complete('envd', 'go', 'which', '--dir', '')).toEqual(['subdir']);
    // After exec DIR comes a command, then its arguments (files).
    expect(complete('envd', 'exec', 'subdir', 'bas')).toContain('bash');
    expect(complete('envd', 'exec', 'subdir', 'ls', 'w')).toEqual(['with space.txt']);
    // An option's value does not count as a positional argument.
    expect(complete('envd', 'go', 'which', '--dir', 'subdir', '--')).toEqual(['--dir', '--json']);
  });
});

describe('zsh', () => {
  const have = haveShell('zsh');

  /** Press Tab after `line` in a real interactive zsh (zpty), collecting what compadd was given. */
  function complete(line: string): string[] {
    const driver = `
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; autoload -Uz compinit; compinit -u -d ${sb.path('zcompdump')}; source <(${ENVD_BIN} completion zsh)"
zpty -w z 'compadd() { local -a m; builtin compadd -O m "$@"; print -rn -- $'"'"'\\n'"'"'"<"c">"\${^m}; builtin compadd "$@"; }'
zpty -w z 'unsetopt automenu menucomplete; setopt nolistbeep nobeep; zstyle ":completion:*" list-prompt ""'
zpty -w -n z ${JSON.stringify(line)}$'\\t'
sleep 1.5
local out='' chunk
while zpty -r -t z chunk; do out+=$chunk; done
print -r -- "$out"
zpty -d z
`;
    const r = sb.shell('zsh', driver, { cwd: sb.path('work'), timeoutMs: 30_000 });
    const found = [...r.stdout.replace(/\r/g, '').matchAll(/<c>([^<\x00-\x1f]*)/g)].map((m) => (m[1] ?? '').trimEnd());
    return [...new Set(found)].filter((x) => x !== '').sort();
  }

  it.skipIf(!have)('loads after compinit without a word on stderr and registers _envd', () => {
    const r = sb.shell('zsh', `autoload -Uz compinit; compinit -u -d ${sb.path('zcompdump')}; source <(${ENVD_BIN} completion zsh); print -r -- $_comps[envd]`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('_envd');
  });

  it.skipIf(!have)('works as an autoloaded file on $fpath too', () => {
    const dir = sb.mkdir('zfuncs');
    sb.write('zfuncs/_envd', readFileSync(scripts.zsh, 'utf8'));
    const r = sb.shell('zsh', `fpath=(${dir} $fpath); autoload -Uz compinit; compinit -u -d ${sb.path('zcompdump2')}; print -r -- $_comps[envd]`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('_envd');
  });

  it.skipIf(!have)('offers verbs, arguments and options on Tab', () => {
    expect(complete('envd ex')).toEqual(['exec', 'export']);
    expect(complete('envd export ')).toEqual(['bash', 'elvish', 'fish', 'gha', 'json', 'nushell', 'tcsh', 'zsh']);
    expect(complete('envd go which --')).toEqual(['--dir', '--json']);
    expect(complete('envd daemon ')).toEqual(['install', 'logs', 'restart', 'run', 'start', 'status', 'stop']);
  });
});

describe('fish', () => {
  const have = haveShell('fish');

  function complete(line: string): string[] {
    const r = sb.shell('fish', `source ${scripts.fish}; complete -C ${JSON.stringify(line)}`, { cwd: sb.path('work') });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0] ?? '').sort();
  }

  it.skipIf(!have)('loads with `envd completion fish | source` without a word on stderr', () => {
    const r = sb.shell('fish', `${ENVD_BIN} completion fish | source; complete -C 'envd comp'`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^completion\tprint tab completion for a shell$/m);
  });

  it.skipIf(!have)('parses with fish --no-execute', () => {
    const r = spawnSync('fish', ['--no-execute', scripts.fish], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!have)('verbs with descriptions, arguments, options, files and directories', () => {
    expect(complete('envd ex')).toEqual(['exec', 'export']);
    expect(complete('envd export ')).toEqual(['bash', 'elvish', 'fish', 'gha', 'json', 'nushell', 'tcsh', 'zsh']);
    expect(complete('envd go which --')).toEqual(['--dir', '--json']);
    expect(complete('envd go which --dir ')).toEqual(['subdir/']);
    expect(complete('envd daemon install --platform ')).toEqual(['darwin', 'linux']);
    expect(complete('envd allow ')).toEqual(['notes.txt', 'subdir/', 'with space.txt']);
    expect(complete('envd doctor -')).toEqual(['--json', '--no-start']);
  });
});

describe('usage', () => {
  it('no shell, or an unknown one: exit 2 and the three choices', () => {
    for (const args of [[], ['tcsh'], ['bash', 'zsh']]) {
      const r = sb.envd(['completion', ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain("'envd completion bash'");
    }
  });
});
