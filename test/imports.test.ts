/**
 * The module graph of src/ has no cycle: each part depends on the parts below it (issue
 * "One shape per concern"). Every relative import counts — static, type-only and the
 * lazy `import()` the CLI uses to load a verb — because a cycle through any of them
 * still ties the two files' shapes together.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/sandbox.js';

const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The relative modules a file imports, as source paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.[^']+)'/gm)].map((m) => m[1] ?? '');
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every cycle's members (strongly connected components of more than one file, or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do { w = stack.pop(); if (w !== undefined) { on.delete(w); scc.push(w); } } while (w !== undefined && w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.map((f) => relative(ROOT, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe('the module graph', () => {
  const graph = new Map(sources(SRC).map((f) => [f, importsOf(f)]));

  it('is read (the parser finds the imports it should)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get(join(SRC, 'cli', 'go.ts'))).toContain(join(SRC, 'cli', 'go-setup.ts'));
  });

  it('has no cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('the daemon imports nothing from the client side or the CLI', () => {
    const wrong = [...graph].filter(([f]) => f.startsWith(join(SRC, 'daemon')))
      .flatMap(([f, deps]) => deps.filter((d) => d.startsWith(join(SRC, 'client')) || d.startsWith(join(SRC, 'cli'))).map((d) => `${relative(SRC, f)} → ${relative(SRC, d)}`));
    expect(wrong).toEqual([]);
  });
});
