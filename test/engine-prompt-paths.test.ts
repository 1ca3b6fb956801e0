import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { promptPaths } from '../src/engine/outcome.js';

// What the hooks stat at every prompt: the files the loaded state depends on, with the
// user's missing config and extension files stood for by fewer paths that still change
// when one of them appears.
const root = mkdtempSync(join(tmpdir(), 'ev-pp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('promptPaths', () => {
  const home = join(root, 'home');
  const cfg = join(home, '.config');
  mkdirSync(join(cfg, 'envd'), { recursive: true });
  writeFileSync(join(cfg, 'envd', 'envd.toml'), '');
  const envrc = join(root, 'p', '.envrc');
  const user = [
    join(cfg, 'envd', 'envd.toml'), join(cfg, 'envd', 'envdrc'), join(cfg, 'envd', 'lib'),
    join(cfg, 'direnv', 'direnv.toml'), join(cfg, 'direnv', 'direnvrc'), join(cfg, 'direnv', 'lib'),
    join(home, '.direnvrc'),
  ];

  it('keeps what exists, and what is not the user\'s (a missing watched file of the project too)', () => {
    const got = promptPaths([envrc, ...user], new Set(user), home);
    expect(got).toContain(envrc);
    expect(got).toContain(join(cfg, 'envd', 'envd.toml'));
  });

  it('stands for missing files by the highest missing directory, or by their existing directory when two or more are missing in it', () => {
    const got = promptPaths(user, new Set(user), home);
    expect(got.sort()).toEqual([
      join(cfg, 'direnv'), // missing: the three files under it
      join(cfg, 'envd'), // exists: envdrc and lib missing in it
      join(cfg, 'envd', 'envd.toml'),
      join(home, '.direnvrc'), // alone in home, whose mtime moves all the time: itself
    ].sort());
  });

  it('never stands for files by the home directory', () => {
    const a = join(home, '.a');
    const b = join(home, '.b');
    expect(promptPaths([a, b], new Set([a, b]), home).sort()).toEqual([a, b].sort());
  });
});
