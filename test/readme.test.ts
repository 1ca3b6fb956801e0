import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from '../src/config/config.js';
import { resolvePaths } from '../src/config/paths.js';
import { ROOT } from './helpers/sandbox.js';
import { allShells } from '../src/shells/index.js';

// The README's promises, checked cheaply: the quick start is exactly the two commands (CI
// runs them on a fresh clone), the links resolve, and docs/configuration.md matches the
// configuration code key for key and default for default.

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines?: { node?: string }; scripts?: Record<string, string>; license?: string };


function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no '## ${heading}' section`);
  const end = text.indexOf('\n## ', start + 4);
  return text.slice(start, end < 0 ? undefined : end);
}

function codeBlocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
}

function localLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] ?? '').filter((l) => !/^[a-z]+:/.test(l));
}

describe('README quick start', () => {
  it('is exactly the two commands, each in its own block', () => {
    const qs = section(readme, 'Quick start');
    const commands = codeBlocks(qs, 'sh').map((b) => b.trim());
    expect(commands).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
  });

  it('names the Node version package.json requires, and the scripts exist', () => {
    const min = /^>=(\d+\.\d+)$/.exec(pkg.engines?.node ?? '')?.[1];
    expect(min).toBeDefined();
    expect(section(readme, 'Quick start')).toContain(`Node ≥ ${min ?? ''}`);
    expect(pkg.scripts?.demo).toMatch(/node dist\/demo\/main\.js$/);
    expect(pkg.scripts?.test).toMatch(/vitest run/);
    expect(pkg.scripts?.prepare).toMatch(/build/);
  });

  it('says zsh and fish tests are skipped when missing, and that .ci/run installs them', () => {
    const qs = section(readme, 'Quick start');
    expect(qs).toMatch(/without zsh or fish their tests are skipped/);
    expect(qs).toContain('`.ci/run` installs them');
    expect(existsSync(join(ROOT, '.ci/run'))).toBe(true);
  });
});

describe('README install', () => {
  it('gives the hook line for each shell exactly', () => {
    const install = section(readme, 'Install');
    expect(install).toContain('`eval "$(envd hook bash)"`');
    expect(install).toContain('`eval "$(envd hook zsh)"`');
    expect(install).toContain('`envd hook fish \\| source`');
    expect(install).toContain('npm install -g .');
    expect(install).toContain('npm link');
  });

  it('the hook line each shell prints in its own file header matches the README', () => {
    const install = section(readme, 'Install');
    for (const shell of allShells()) {
      expect(readFileSync(join(ROOT, shell.hookFile), 'utf8')).toContain(shell.hookLine);
      expect(install).toContain(`\`${shell.hookLine.replace(/\|/g, '\\|')}\``);
    }
  });
});

describe('links', () => {
  it('every document in docs/ is linked from the README', () => {
    const linked = new Set(localLinks(readme));
    const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
    expect(docs.filter((d) => !linked.has(d))).toEqual([]);
  });

  it('every local link in the README and in this issue\'s docs points at a file', () => {
    const missing: string[] = [];
    for (const file of ['README.md', 'docs/configuration.md', 'docs/editors-and-ci.md']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const link of localLinks(text)) {
        const target = resolve(dirname(join(ROOT, file)), link);
        const rel = target.slice(ROOT.length + 1);
        if (existsSync(target)) continue;
        missing.push(`${file} -> ${rel}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');

  /** Every key the config reader accepts, as `section.key`, read from the code. */
  function keysInCode(): string[] {
    const src = readFileSync(join(ROOT, 'src/config/config.ts'), 'utf8');
    return [...src.matchAll(/r\.(?:bool|duration|str|strList)\(\w+, '[a-z_]+', '([a-z]+\.[a-z_]+)'/g)].map((m) => m[1] ?? '');
  }

  function load(toml: string): ReturnType<typeof loadConfig> {
    const dir = mkdtempSync(join(tmpdir(), 'ev-doc-'));
    try {
      mkdirSync(join(dir, 'envd'), { recursive: true });
      writeFileSync(join(dir, 'envd', 'envd.toml'), toml);
      return loadConfig(resolvePaths({ HOME: dir, XDG_CONFIG_HOME: dir, DIRENV_CONFIG: join(dir, 'none') }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('documents every key the code reads, under its section', () => {
    const keys = keysInCode();
    expect(keys.length).toBeGreaterThanOrEqual(16);
    for (const full of keys) {
      const [sectionName, key] = full.split('.');
      const sec = section(doc, `\`[${sectionName ?? ''}]\``);
      expect(sec, full).toContain(`### \`${key ?? ''}\``);
    }
  });

  it('the "every key at its default" file is exactly the defaults', () => {
    const block = codeBlocks(doc, 'toml')[0] ?? '';
    expect(block).toContain('[global]');
    const loaded = load(block);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config).toEqual(defaultConfig());
    // And it names every key (commented out where the default is "unset").
    for (const full of keysInCode()) expect(block).toMatch(new RegExp(`^#? ?${full.split('.')[1] ?? ''}[ :]`, 'm'));
  });

  it('every example is valid and changes something from the defaults', () => {
    const examples = codeBlocks(doc, 'toml').slice(1);
    expect(examples.length).toBeGreaterThanOrEqual(15);
    for (const ex of examples) {
      const loaded = load(ex);
      expect(loaded.warnings, ex).toEqual([]);
      expect(loaded.config, ex).not.toEqual(defaultConfig());
    }
  });

  it('lists the environment variables the brief names', () => {
    for (const v of ['ENVD_NO_DAEMON', 'ENVD_LOG_LEVEL', 'ENVD_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'XDG_RUNTIME_DIR', 'DIRENV_CONFIG']) {
      expect(doc).toContain(`| \`${v}`);
    }
  });
});
