import { describe, expect, it } from 'vitest';
import {
  compareGoVersions,
  downloadName,
  formatGoVersion,
  parseGoVersion,
  parseVersionFile,
  satisfiesMinimum,
  type GoVersion,
} from '../src/go/version.js';

function v(text: string): GoVersion {
  const p = parseGoVersion(text);
  if (p === null) throw new Error(`bad version in test: ${text}`);
  return p;
}

describe('Go version numbers', () => {
  it('parses every spelling people write', () => {
    expect(parseGoVersion('1.22.5')).toEqual({ major: 1, minor: 22, patch: 5, pre: null });
    expect(parseGoVersion('go1.22.5')).toEqual({ major: 1, minor: 22, patch: 5, pre: null });
    expect(parseGoVersion('1.22')).toEqual({ major: 1, minor: 22, patch: null, pre: null });
    expect(parseGoVersion('1.21rc2')).toEqual({ major: 1, minor: 21, patch: null, pre: { kind: 'rc', n: 2 } });
    expect(parseGoVersion('go1.20beta1')).toEqual({ major: 1, minor: 20, patch: null, pre: { kind: 'beta', n: 1 } });
    expect(parseGoVersion(' 1.19.8\n')).toEqual({ major: 1, minor: 19, patch: 8, pre: null });
  });

  it('rejects what is not a Go version', () => {
    for (const bad of ['', '1', 'v1.22', '1.22.x', 'banana', '1.21.1rc1', 'go 1.22', '1.22.5.1', 'latest']) {
      expect(parseGoVersion(bad), bad).toBeNull();
    }
  });

  it('formats back as written', () => {
    for (const t of ['1.22.5', '1.22', '1.21rc2', '1.20beta1']) expect(formatGoVersion(v(t))).toBe(t);
    expect(formatGoVersion(v('go1.22.5'))).toBe('1.22.5');
  });

  it('orders pre-releases before releases, and go1.20 equal to 1.20.0', () => {
    const order = ['1.19.8', '1.20beta1', '1.20rc1', '1.20', '1.20.1', '1.21rc2', '1.21.0', '1.21.13', '1.22.0', '1.22.12'];
    for (let i = 1; i < order.length; i++) {
      expect(compareGoVersions(v(order[i - 1] ?? ''), v(order[i] ?? '')), `${order[i - 1]} < ${order[i]}`).toBe(-1);
    }
    expect(compareGoVersions(v('1.20'), v('1.20.0'))).toBe(0);
    expect(compareGoVersions(v('1.21rc2'), v('1.21rc2'))).toBe(0);
    expect(compareGoVersions(v('1.21beta1'), v('1.21rc1'))).toBe(-1);
  });

  it('treats a go line without patch as a language version', () => {
    // `go 1.21` accepts every 1.21 toolchain, 1.21rc2 included, and anything newer.
    expect(satisfiesMinimum(v('1.21rc2'), v('1.21'))).toBe(true);
    expect(satisfiesMinimum(v('1.21.0'), v('1.21'))).toBe(true);
    expect(satisfiesMinimum(v('1.22.1'), v('1.21'))).toBe(true);
    expect(satisfiesMinimum(v('1.20.14'), v('1.21'))).toBe(false);
    // With a patch or a pre-release it is an ordinary minimum.
    expect(satisfiesMinimum(v('1.21.1'), v('1.21.3'))).toBe(false);
    expect(satisfiesMinimum(v('1.21.3'), v('1.21.3'))).toBe(true);
    expect(satisfiesMinimum(v('1.21rc1'), v('1.21rc2'))).toBe(false);
    expect(satisfiesMinimum(v('1.21.0'), v('1.21rc2'))).toBe(true);
  });

  it('names the golang.org/dl wrapper for a wanted version', () => {
    expect(downloadName(v('1.22.5'))).toBe('go1.22.5');
    expect(downloadName(v('1.22'))).toBe('go1.22.0');
    expect(downloadName(v('1.20'))).toBe('go1.20');
    expect(downloadName(v('1.21rc2'))).toBe('go1.21rc2');
  });

  it('reads VERSION files as Debian, the tarballs and custom builds write them', () => {
    expect(parseVersionFile('go1.19.8')).toEqual(v('1.19.8')); // Debian 1.19: no newline
    expect(parseVersionFile('go1.22.12\ntime 2025-01-31T18:38:03Z\n')).toEqual(v('1.22.12'));
    expect(parseVersionFile('go1.20\n')).toEqual(v('1.20'));
    expect(parseVersionFile('go1.21.3 X:boringcrypto\n')).toEqual(v('1.21.3'));
    expect(parseVersionFile('go1.21.3-custom\n')).toEqual(v('1.21.3'));
    expect(parseVersionFile('go1.22rc1\n')).toEqual(v('1.22rc1'));
    expect(parseVersionFile('devel go1.23-abcdef Tue Jan 1\n')).toBeNull();
    expect(parseVersionFile('')).toBeNull();
  });
});
