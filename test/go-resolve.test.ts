import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseGoModLines, parseGoVersionFile, parseMiseTools, parseToolVersions } from '../src/go/files.js';
import { globalPinFiles, GoResolutionError, resolveGo } from '../src/go/resolve.js';
import type { GoResolution, GoSdk } from '../src/go/types.js';
import { EnvdError } from '../src/util/errors.js';
import { Sandbox } from './helpers/sandbox.js';

let sb: Sandbox;
let proj: string;

beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  proj = sb.mkdir('home/work/proj');
});
afterEach(() => {
  sb.cleanup();
});

function sdks(...versions: string[]): GoSdk[] {
  return versions.map((v) => ({ version: v, root: `/sdk/go${v}`, source: 'sdk' }));
}

const SEED = sdks('1.22.12', '1.22.5', '1.21.13', '1.21.0', '1.19.8');

function resolve(dir: string, explicit: string | undefined, list: GoSdk[] = SEED): GoResolution {
  return resolveGo(dir, explicit, list, { home: sb.home });
}

function failure(fn: () => unknown): GoResolutionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GoResolutionError) return err;
    throw err;
  }
  throw new Error('expected a GoResolutionError');
}

function put(rel: string, content: string): string {
  return sb.write(join(proj, rel), content);
}

describe('version files', () => {
  it('go.mod: go and toolchain lines, comments, blocks', () => {
    const text = [
      '// a comment mentioning go 1.10',
      'module example.com/m',
      '',
      'go 1.21 // the language version',
      '',
      'toolchain go1.22.5',
      'require (',
      '\tgo 1.0.0 // not a directive',
      '\texample.com/dep v1.2.3',
      ')',
    ].join('\n');
    expect(parseGoModLines(text)).toEqual({ go: '1.21', toolchain: 'go1.22.5' });
    expect(parseGoModLines('module m\n')).toEqual({ go: null, toolchain: null });
  });

  it('.go-version: first word of the first real line', () => {
    expect(parseGoVersionFile('1.22.5\n')).toBe('1.22.5');
    expect(parseGoVersionFile('# pinned\n\n  go1.21.3  extra\n')).toBe('go1.21.3');
    expect(parseGoVersionFile('\n\n')).toBeNull();
  });

  it('.tool-versions: golang or go entry, every version listed', () => {
    expect(parseToolVersions('nodejs 20.1.0\ngolang 1.22.5 1.21.0 # fallbacks\n')).toEqual(['1.22.5', '1.21.0']);
    expect(parseToolVersions('go 1.22\n')).toEqual(['1.22']);
    expect(parseToolVersions('nodejs 20.1.0\n')).toBeNull();
    expect(parseToolVersions('# golang 1.22\n')).toBeNull();
  });
});

describe('precedence: argument > toolchain > .go-version > .tool-versions > go line > newest', () => {
  beforeEach(() => {
    put('go.mod', 'module m\n\ngo 1.19\n\ntoolchain go1.21.13\n');
    put('.go-version', '1.22.5\n');
    put('.tool-versions', 'golang 1.19.8\n');
  });

  it('an explicit version wins over every file, and depends on none', () => {
    const r = resolve(proj, '1.19');
    expect(r.sdk.version).toBe('1.19.8');
    expect(r.reason).toBe('argument');
    expect(r.wanted).toBe('1.19');
    expect(r.consulted).toEqual([]);
  });

  it('the go.mod toolchain line comes next', () => {
    const r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.21.13');
    expect(r.reason).toBe('toolchain line of ~/work/proj/go.mod');
    expect(r.consulted).toContain(join(proj, 'go.mod'));
  });

  it('then .go-version', () => {
    put('go.mod', 'module m\n\ngo 1.19\n');
    const r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.22.5');
    expect(r.reason).toBe('~/work/proj/.go-version');
  });

  it('then .tool-versions', () => {
    put('go.mod', 'module m\n\ngo 1.19\n');
    sb.run('rm', [join(proj, '.go-version')]);
    const r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.19.8');
    expect(r.reason).toBe('golang entry of ~/work/proj/.tool-versions');
  });

  it('then the go line, as a minimum: the newest installed that satisfies it', () => {
    put('go.mod', 'module m\n\ngo 1.21\n');
    sb.run('rm', [join(proj, '.go-version'), join(proj, '.tool-versions')]);
    const r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.22.12');
    expect(r.wanted).toBe('>=1.21');
    expect(r.reason).toBe('go line of ~/work/proj/go.mod');
  });

  it('with no file at all: the newest installed, and the files that would matter are watched', () => {
    const empty = sb.mkdir('home/empty');
    const r = resolve(empty, undefined);
    expect(r.sdk.version).toBe('1.22.12');
    expect(r.wanted).toBe('latest');
    for (const f of ['go.mod', 'go.work', '.go-version', '.tool-versions']) expect(r.consulted).toContain(join(empty, f));
  });
});

describe('walking up and go.work', () => {
  it('uses the nearest file walking up from the directory', () => {
    sb.write(join(sb.home, 'work/.go-version'), '1.19\n');
    put('sub/deeper/.keep', '');
    const r = resolve(join(proj, 'sub/deeper'), undefined);
    expect(r.sdk.version).toBe('1.19.8');
    expect(r.consulted).toContain(join(sb.home, 'work/.go-version'));
    put('.go-version', '1.21\n');
    expect(resolve(join(proj, 'sub/deeper'), undefined).sdk.version).toBe('1.21.13');
  });

  it('a go.work above governs instead of go.mod, as with the go command', () => {
    sb.write(join(sb.home, 'work/go.work'), 'go 1.21\n\ntoolchain go1.19.8\n\nuse ./proj\n');
    put('go.mod', 'module m\n\ngo 1.21\n\ntoolchain go1.22.5\n');
    const r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.19.8');
    expect(r.reason).toBe('toolchain line of ~/work/go.work');
  });

  it('.tool-versions: the nearest one with a Go entry, first installed version of the entry', () => {
    put('.tool-versions', 'nodejs 20.1.0\n');
    sb.write(join(sb.home, 'work/.tool-versions'), 'go 1.23.1 1.21.0\n');
    const r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.21.0');
    expect(r.wanted).toBe('1.23.1 or 1.21.0');
    expect(r.consulted).toEqual(expect.arrayContaining([join(proj, '.tool-versions'), join(sb.home, 'work/.tool-versions')]));
  });

  it('.tool-versions `system` and .go-version `system` pin nothing', () => {
    put('.tool-versions', 'golang system\n');
    put('go.mod', 'module m\ngo 1.19\n');
    expect(resolve(proj, undefined).reason).toBe('go line of ~/work/proj/go.mod');
    put('.go-version', 'system\n');
    expect(resolve(proj, undefined).reason).toBe('go line of ~/work/proj/go.mod');
  });
});

describe('mise and global pins (migrating from mise, goenv, asdf)', () => {
  it("reads mise's [tools] go entry: string, list, { version }, golang/core:go keys, prefix:", () => {
    expect(parseMiseTools('[tools]\ngo = "1.22"\nnode = "20"\n')).toEqual(['1.22']);
    expect(parseMiseTools('[tools]\ngo = ["1.23", "1.21.13"]\n')).toEqual(['1.23', '1.21.13']);
    expect(parseMiseTools('[tools]\ngo = { version = "1.19" }\n')).toEqual(['1.19']);
    expect(parseMiseTools('[tools]\ngolang = "prefix:1.21"\n')).toEqual(['1.21']);
    expect(parseMiseTools('[tools]\n"core:go" = "latest"\n')).toEqual(['latest']);
    expect(parseMiseTools('[tools]\nnode = "20"\n')).toBeNull();
    expect(parseMiseTools('[env]\nFOO = "1"\n')).toBeNull();
    expect(() => parseMiseTools('[tools\ngo = 1')).toThrow(/not valid TOML/);
    expect(() => parseMiseTools('[tools]\ngo = 1.22\n')).toThrow(/must be a version/);
  });

  it('a mise.toml pins like .tool-versions; within one directory mise.local.toml, then mise.toml, then .tool-versions', () => {
    put('go.mod', 'module m\n\ngo 1.19\n');
    put('.tool-versions', 'golang 1.19.8\n');
    put('mise.toml', '[tools]\ngo = "1.21"\n');
    let r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.21.13');
    expect(r.reason).toBe('[tools] go entry of ~/work/proj/mise.toml');
    put('mise.local.toml', '[tools]\ngo = "1.22.5"\n');
    r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.22.5');
    expect(r.reason).toBe('[tools] go entry of ~/work/proj/mise.local.toml');
    // .go-version still comes first, as for .tool-versions.
    put('.go-version', '1.19\n');
    expect(resolve(proj, undefined).sdk.version).toBe('1.19.8');
  });

  it("mise's other config files, in mise's own order: dotted over plain, .local over shared, top level over mise/, .mise/, .config/", () => {
    // Weakest first; each one written must take over from all before it (checked against
    // `mise current go` of mise 2026.9.15 with every file present).
    const order: [string, string][] = [
      ['.tool-versions', 'golang 1.19.8\n'],
      ['.config/mise/config.toml', '1.21.0'],
      ['.config/mise.toml', '1.21.13'],
      ['.mise/config.toml', '1.22.5'],
      ['mise/config.toml', '1.22.12'],
      ['mise.toml', '1.19.8'],
      ['.mise.toml', '1.21.0'],
      ['.config/mise/config.local.toml', '1.21.13'],
      ['.mise/config.local.toml', '1.22.5'],
      ['mise/config.local.toml', '1.22.12'],
      ['mise.local.toml', '1.19.8'],
      ['.mise.local.toml', '1.21.0'],
    ];
    for (const [name, v] of order) {
      put(name, name === '.tool-versions' ? v : `[tools]\ngo = "${v}"\n`);
      const r = resolve(proj, undefined);
      expect(r.reason).toMatch(new RegExp(`of ~/work/proj/${name.replace(/\./g, '\\.')}$`));
      if (name !== '.tool-versions') expect(r.sdk.version).toBe(v);
    }
  });

  it('a nested mise file that could appear is watched through its first missing directory', () => {
    put('go.mod', 'module m\n\ngo 1.21\n');
    let r = resolve(proj, undefined);
    expect(r.consulted).toEqual(expect.arrayContaining([join(proj, '.config'), join(proj, 'mise'), join(proj, '.mise'), join(proj, 'mise.toml')]));
    expect(r.consulted).not.toContain(join(proj, '.config/mise.toml'));
    mkdirSync(join(proj, '.config'));
    r = resolve(proj, undefined);
    expect(r.consulted).toEqual(expect.arrayContaining([join(proj, '.config/mise.toml'), join(proj, '.config/mise')]));
    expect(r.consulted).not.toContain(join(proj, '.config'));
    put('.config/mise.toml', '[tools]\ngo = "1.22"\n');
    r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.22.12');
    expect(r.reason).toBe('[tools] go entry of ~/work/proj/.config/mise.toml');
  });

  it('the nearest directory wins: a .tool-versions here over a mise.toml above', () => {
    sb.write(join(sb.home, 'work/.mise.toml'), '[tools]\ngo = "1.22"\n');
    expect(resolve(proj, undefined).sdk.version).toBe('1.22.12');
    put('.tool-versions', 'go 1.21.0\n');
    expect(resolve(proj, undefined).sdk.version).toBe('1.21.0');
  });

  it('a broken mise.toml is one CONFIG_INVALID line naming the file; a mise.toml without go pins nothing', () => {
    put('mise.toml', '[tools]\nnode = "20"\n');
    put('go.mod', 'module m\n\ngo 1.21\n');
    expect(resolve(proj, undefined).reason).toBe('go line of ~/work/proj/go.mod');
    put('mise.toml', '[tools\n');
    const e = failure(() => resolve(proj, undefined));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/^~\/work\/proj\/mise\.toml: not valid TOML/);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it("the user's global pin (mise config, goenv version, ~/.tool-versions) applies when the tree pins nothing, and is watched", () => {
    const outside = sb.mkdir('elsewhere/proj'); // not under HOME: ~/.tool-versions is not on its path
    const env = { XDG_CONFIG_HOME: join(sb.home, '.config') };
    const globals = globalPinFiles(sb.home, env);
    expect(globals).toEqual([join(sb.home, '.config/mise/config.toml'), join(sb.home, '.goenv/version'), join(sb.home, '.tool-versions')]);
    expect(globalPinFiles(sb.home, { MISE_CONFIG_DIR: '/m', GOENV_ROOT: '/g' }).slice(0, 2)).toEqual(['/m/config.toml', '/g/version']);
    const res = (dir: string): GoResolution => resolveGo(dir, undefined, SEED, { home: sb.home, globalPins: globals });
    let r = res(outside);
    expect(r.wanted).toBe('latest');
    expect(r.consulted).toEqual(expect.arrayContaining(globals));
    sb.write(join(sb.home, '.tool-versions'), 'golang 1.19.8\n');
    expect(res(outside).sdk.version).toBe('1.19.8');
    sb.write(join(sb.home, '.goenv/version'), '1.21.0\n');
    r = res(outside);
    expect(r.sdk.version).toBe('1.21.0');
    expect(r.reason).toBe('version of ~/.goenv/version');
    sb.write(join(sb.home, '.config/mise/config.toml'), '[tools]\ngo = "1.22.5"\n');
    expect(res(outside).sdk.version).toBe('1.22.5');
    // Anything in the tree wins, a go line included.
    sb.write(join(outside, 'go.mod'), 'module m\n\ngo 1.21.0\n');
    expect(res(outside).reason).toBe(`go line of ${join(outside, 'go.mod')}`);
  });
});

describe('what each kind of version selects', () => {
  it('a prefix picks the highest installed patch; go1.X.Y and X.Y.Z are exact', () => {
    expect(resolve(proj, '1.22').sdk.version).toBe('1.22.12');
    expect(resolve(proj, 'go1.22').sdk.version).toBe('1.22.12');
    expect(resolve(proj, '1.22.5').sdk.version).toBe('1.22.5');
    expect(resolve(proj, 'go1.22.5').sdk.version).toBe('1.22.5');
    expect(resolve(proj, '1.21.0').sdk.version).toBe('1.21.0');
    expect(resolve(proj, 'latest').sdk.version).toBe('1.22.12');
  });

  it('go1.20 (released without .0) equals 1.20.0; the prefix 1.20 takes later patches', () => {
    const list = sdks('1.20', '1.19.8');
    expect(resolve(proj, '1.20.0', list).sdk.version).toBe('1.20');
    expect(resolve(proj, '1.20', list).sdk.version).toBe('1.20');
    expect(resolve(proj, '1.20', sdks('1.20.3', '1.20')).sdk.version).toBe('1.20.3');
  });

  it('pre-releases: asked for by name, and otherwise only when no release fits', () => {
    const list = sdks('1.23rc1', '1.22.12', '1.21.0', '1.21rc2');
    expect(resolve(proj, '1.21rc2', list).sdk.version).toBe('1.21rc2');
    expect(resolve(proj, '1.21', list).sdk.version).toBe('1.21.0');
    expect(resolve(proj, '1.23', list).sdk.version).toBe('1.23rc1');
    expect(resolve(proj, 'latest', list).sdk.version).toBe('1.22.12');
    expect(failure(() => resolve(proj, '1.21rc1', list)).code).toBe('GO_NOT_INSTALLED');
  });

  it('go line: `go 1.21` is met by any 1.21 (a release preferred), `go 1.21.3` by 1.21.3 or later', () => {
    put('go.mod', 'module m\n\ngo 1.21\n');
    expect(resolve(proj, undefined, sdks('1.21.0', '1.20.14')).sdk.version).toBe('1.21.0');
    expect(resolve(proj, undefined, sdks('1.21rc2', '1.20.14')).sdk.version).toBe('1.21rc2');
    expect(resolve(proj, undefined, sdks('1.21.0', '1.21rc2')).sdk.version).toBe('1.21.0');
    put('go.mod', 'module m\n\ngo 1.21.3\n');
    expect(failure(() => resolve(proj, undefined, sdks('1.21.1', '1.20.14'))).code).toBe('GO_NOT_INSTALLED');
    expect(resolve(proj, undefined, sdks('1.21.1', '1.21.5')).sdk.version).toBe('1.21.5');
    put('go.mod', 'module m\n\ngo 1.19\n');
    expect(resolve(proj, undefined).sdk.version).toBe('1.22.12');
  });

  it('toolchain line: that release if installed, else a newer patch of the same line, never another line', () => {
    put('go.mod', 'module m\n\ngo 1.21\n\ntoolchain go1.22.5\n');
    expect(resolve(proj, undefined).sdk.version).toBe('1.22.5');
    put('go.mod', 'module m\n\ngo 1.21\n\ntoolchain go1.22.1\n');
    expect(resolve(proj, undefined).sdk.version).toBe('1.22.12');
    put('go.mod', 'module m\n\ngo 1.21\n\ntoolchain go1.21.14\n');
    const err = failure(() => resolve(proj, undefined));
    expect(err.code).toBe('GO_NOT_INSTALLED');
    expect(err.message).toContain('1.21.14 (or a newer 1.21 patch)');
    put('go.mod', 'module m\n\ngo 1.21\n\ntoolchain go1.21.3+auto\n');
    expect(resolve(proj, undefined).sdk.version).toBe('1.21.13');
  });

  it('warns when a pin is older than the go line requires', () => {
    put('go.mod', 'module m\n\ngo 1.21\n');
    put('.go-version', '1.19\n');
    const r = resolve(proj, undefined);
    expect(r.sdk.version).toBe('1.19.8');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings?.[0]).toContain("older than the 'go 1.21' line of ~/work/proj/go.mod");
    put('.go-version', '1.22\n');
    expect(resolve(proj, undefined).warnings).toEqual([]);
  });
});

describe('errors', () => {
  it('one line: the wanted version, where it came from, what is installed, how to install it', () => {
    put('.go-version', '1.23.4\n');
    const err = failure(() => resolve(proj, undefined));
    expect(err).toBeInstanceOf(EnvdError);
    expect(err.code).toBe('GO_NOT_INSTALLED');
    expect(err.message).not.toContain('\n');
    expect(err.message).toBe(
      'Go 1.23.4 is not installed (from ~/work/proj/.go-version); installed: 1.22.12, 1.22.5, 1.21.13, 1.21.0, 1.19.8; '
      + 'install it with: envd go install 1.23.4',
    );
    expect(err.consulted).toContain(join(proj, '.go-version'));
  });

  it('names prefixes, minimums and explicit arguments sensibly', () => {
    expect(failure(() => resolve(proj, '1.24')).message).toMatch(/^Go 1\.24\.x is not installed \(asked for explicitly\);.*install it with: envd go install 1\.24$/);
    put('go.mod', 'module m\n\ngo 1.25\n');
    expect(failure(() => resolve(proj, undefined)).message).toMatch(/^Go >= 1\.25 is not installed \(from go line of ~\/work\/proj\/go\.mod\);.*install it with: envd go install 1\.25$/);
  });

  it('says when nothing is installed at all', () => {
    const err = failure(() => resolve(proj, '1.22', []));
    expect(err.message).toContain('installed: none found');
    expect(failure(() => resolve(proj, undefined, [])).message).toContain('install it with: envd go install latest');
  });

  it('a version that is not a version: USAGE for arguments, CONFIG_INVALID naming the file', () => {
    const bad = failure(() => resolve(proj, 'banana'));
    expect(bad.code).toBe('USAGE');
    expect(bad.message).toContain("'banana' is not a Go version");
    put('.go-version', 'one-point-twenty-two\n');
    const inFile = failure(() => resolve(proj, undefined));
    expect(inFile.code).toBe('CONFIG_INVALID');
    expect(inFile.message).toContain('~/work/proj/.go-version');
    put('.go-version', '1.22\n');
    put('go.mod', 'module m\ntoolchain gofast\n');
    expect(failure(() => resolve(proj, undefined)).message).toContain("toolchain line 'gofast'");
  });
});
