import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, haveTool } from './helpers/sandbox.js';
import { allShells, SHELLS, SHELL_NAMES } from '../src/shells/index.js';
import { loadShell } from '../src/shells/files.js';

/**
 * Every shell file envd ships, checked by its own shell's tools: the stdlib, the bash
 * files and the bash programs (bin/envd's front door, the test and CI scripts) with
 * shellcheck, the zsh files with `zsh -n`, the fish files with `fish --no-execute`,
 * elvish's with `elvish -compileonly`, tcsh's with `tcsh -n`, nushell's with nu-check
 * (each shell module names its check). A missing tool skips with a message, or fails
 * under ENVD_REQUIRE_SHELLS=1.
 */

interface Checked { file: string; check: readonly [string, ...string[]] }

const stdlib: Checked[] = readdirSync(join(ROOT, 'stdlib')).filter((f) => f.endsWith('.sh')).sort()
  .map((f) => ({ file: `stdlib/${f}`, check: ['shellcheck', '--shell=bash'] }));
// bash programs of the repository's own: the front door, the user pass of the tests, CI.
const programs: Checked[] = ['bin/envd', 'bin/ask-daemon.bash', 'bin/ask-daemon-exec.bash', 'bin/ask-daemon-pair.bash', 'bin/ask-daemon-reply.bash', 'scripts/test-as-user.sh', '.ci/run'].map((file) => ({ file, check: ['shellcheck', '--shell=bash'] }));
const shellFiles: Checked[] = [
  ...allShells().flatMap((s) => [s.hookFile, ...(s.completionFile === null ? [] : [s.completionFile])].map((file) => ({ file, check: s.check }))),
  // Sourced by the bash hook and by bin/envd's front door.
  { file: 'shells/bash/run-dir.bash', check: ['shellcheck', '--shell=bash'] },
];

describe('shell files pass their shell\'s check', () => {
  it('the list covers every file under shells/ and stdlib/*.sh', () => {
    const under = readdirSync(join(ROOT, 'shells'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(ROOT.length + 1)).sort();
    expect(shellFiles.map((c) => c.file).sort()).toEqual(under);
    expect(stdlib.length).toBeGreaterThan(5);
  });

  const have = new Map<string, boolean>();
  const available = (tool: string): boolean => {
    if (!have.has(tool)) have.set(tool, haveTool(tool));
    return have.get(tool) === true;
  };

  for (const { file, check } of [...stdlib, ...programs, ...shellFiles]) {
    it(`${check.join(' ')} ${file}`, () => {
      const [tool, ...args] = check;
      if (!available(tool)) return;
      const r = spawnSync(tool, [...args, join(ROOT, file)], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }
});

describe('tcsh', () => {
  it('every block of the hook is closed (tcsh -n does not check that)', () => {
    const lines = readFileSync(join(ROOT, SHELLS.tcsh.hookFile), 'utf8').split('\n').map((l) => l.trim()).filter((l) => !l.startsWith('#'));
    const opened = lines.filter((l) => /^if \(.*\) then$/.test(l)).length;
    expect(opened).toBeGreaterThan(3);
    expect(lines.filter((l) => l === 'endif').length).toBe(opened);
    expect(lines.filter((l) => /^(while|foreach) /.test(l)).length).toBe(lines.filter((l) => l === 'end').length);
  });
});

describe('the shell registry', () => {
  it('has one module per name, and loading one alone gives the same module', async () => {
    for (const name of SHELL_NAMES) {
      expect(SHELLS[name].name).toBe(name);
      expect(await loadShell(name)).toBe(SHELLS[name]);
    }
  });
});
