// Concurrency and crash safety with real processes: each child is `node` running a small
// script that imports the built module (dist/), as the CLI and daemon do.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Sandbox, ROOT } from './helpers/sandbox.js';
import { resolvePaths, type EnvdPaths } from '../src/config/paths.js';
import { defaultConfig } from '../src/config/config.js';
import { openAllowlist } from '../src/allowlist/store.js';
import { contentHash } from '../src/allowlist/hash.js';
import { EnvdError } from '../src/util/errors.js';

const DIST = join(ROOT, 'dist');

beforeAll(() => {
  // The children run the build; make sure it is the code under test.
  const src = join(ROOT, 'src', 'allowlist');
  for (const name of readdirSync(src).filter((n) => n.endsWith('.ts'))) {
    const js = join(DIST, 'allowlist', name.replace(/\.ts$/, '.js'));
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(join(src, name)).mtimeMs) {
      throw new Error(`${js} is missing or older than src/allowlist/${name}: run \`npm run build\` first`);
    }
  }
});

let sb: Sandbox;
let paths: EnvdPaths;
let script: string;

const CHILD = `
import { existsSync } from 'node:fs';
import { openAllowlist, contentHash } from ${JSON.stringify(join(DIST, 'allowlist', 'index.js'))};
import { resolvePaths } from ${JSON.stringify(join(DIST, 'config', 'paths.js'))};
import { defaultConfig } from ${JSON.stringify(join(DIST, 'config', 'config.js'))};

const [mode, id, count, goFile] = process.argv.slice(2);
const store = openAllowlist(resolvePaths(process.env), defaultConfig());
const hashOf = (p) => contentHash(p, Buffer.from(p));
const say = (line) => process.stdout.write(line + '\\n');

if (mode === 'import-only') {
  say('imported');
} else if (mode === 'burst') {
  say('ready');
  while (!existsSync(goFile)) await new Promise((r) => setTimeout(r, 1));
  for (let i = 0; i < Number(count); i++) {
    const p = '/burst/' + id + '/' + i + '/.envrc';
    store.allow(p, hashOf(p));
  }
  store.deny('/denied/' + id + '/.envrc');
  say('done');
} else if (mode === 'forever') {
  say('ready');
  for (let i = 0; ; i++) {
    const p = '/loop/' + id + '/' + i + '/.envrc';
    store.allow(p, hashOf(p));
    say('ok ' + p);
  }
}
`;

beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  paths = resolvePaths(sb.env);
  script = sb.write('child.mjs', CHILD);
});
afterEach(() => {
  rmSync(sb.root, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves when a line matching `re` has been printed. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, [script, ...args], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((x) => x.re.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`child ${args.join(' ')} exited ${code}: ${stderr}\n`);
      resolve(code);
    });
  });
  return {
    proc,
    lines,
    exited,
    waitFor(re, timeoutMs = 15_000) {
      if (lines.some((l) => re.test(l))) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`child did not print ${String(re)} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push({ re, resolve: () => { clearTimeout(t); resolve(); } });
        void exited.then((code) => {
          clearTimeout(t);
          if (!lines.some((l) => re.test(l))) reject(new Error(`child exited (${code}) before printing ${String(re)}; stderr: ${stderr}`));
        });
      });
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The records on disk, read through a fresh store (so verification runs). */
function recordsOnDisk(): Set<string> {
  const store = openAllowlist(paths, defaultConfig());
  const status = store.status();
  if (!status.ok) throw new Error(`store does not verify: ${status.message}`);
  const doc = JSON.parse(readFileSync(paths.allowlistFile, 'utf8')) as { records: { path: string }[] };
  expect(doc.records).toHaveLength(status.records);
  return new Set(doc.records.map((r) => r.path));
}

describe('processes', () => {
  it('importing the module starts nothing and touches no files', async () => {
    const c = startChild(['import-only']);
    const started = Date.now();
    expect(await c.exited).toBe(0);
    expect(c.lines).toEqual(['imported']);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Only what the sandbox made itself: no data dir, no key.
    expect(existsSync(paths.dataDir)).toBe(false);
    expect(readdirSync(sb.home)).toEqual([]);
  });

  it('concurrent allow and deny from 8 processes all persist', async () => {
    const N = 8;
    const PER = 15;
    const go = sb.path('go');
    const children = Array.from({ length: N }, (_, id) => startChild(['burst', String(id), String(PER), go]));
    await Promise.all(children.map((c) => c.waitFor(/^ready$/)));
    writeFileSync(go, '');
    const codes = await Promise.all(children.map((c) => c.exited));
    expect(codes).toEqual(Array<number>(N).fill(0));

    const records = recordsOnDisk();
    expect(records.size).toBe(N * PER);
    for (let id = 0; id < N; id++) {
      for (let i = 0; i < PER; i++) expect(records.has(`/burst/${id}/${i}/.envrc`)).toBe(true);
    }
    const store = openAllowlist(paths, defaultConfig());
    for (let id = 0; id < N; id++) expect(store.check(`/denied/${id}/.envrc`, '0'.repeat(64)).kind).toBe('denied');
    // No lock or temp files left behind.
    expect(readdirSync(paths.dataDir).sort()).toEqual(['allowlist.json', 'signing.key']);
  });

  it('kill -9 at random moments during writes never leaves a torn or unverifiable file', async () => {
    const ROUNDS = 25;
    const acknowledged = new Set<string>();
    let previous = 0;
    let killedMidWrite = 0;
    /** Records already on disk after earlier rounds (acknowledged or not). */
    const earlier = new Set<string>();
    // The writers go back to back without pause: the lock's fairness must let each one in.
    for (let round = 0; round < ROUNDS; round++) {
      // Two writers contend for the lock; both are killed at independent random moments.
      const writers = [startChild(['forever', `${round}a`]), startChild(['forever', `${round}b`])];
      // Each must make progress: a lock left by the previous round's victims is broken.
      await Promise.all(writers.map((w) => w.waitFor(/^ok /)));
      await Promise.all(writers.map(async (w) => {
        await sleep(Math.random() * 40);
        w.proc.kill('SIGKILL');
        await w.exited;
      }));
      // Evidence that a kill landed inside a write: its lock or temp file is still there.
      if (readdirSync(paths.dataDir).some((n) => n.endsWith('.lock') || n.endsWith('.tmp'))) killedMidWrite++;
      for (const w of writers) {
        for (const l of w.lines) if (l.startsWith('ok ')) acknowledged.add(l.slice(3));
      }
      const records = recordsOnDisk();
      // Every write that returned is on disk (old-or-new, never lost, never torn).
      for (const p of acknowledged) expect(records.has(p), `acknowledged ${p} missing after round ${round}`).toBe(true);
      // In this round, at most one unacknowledged write per writer can have landed (killed
      // after its rename, before it said so): two writers, two at most.
      const unacknowledged = [...records].filter((p) => !acknowledged.has(p) && !earlier.has(p));
      expect(unacknowledged.length, `round ${round}: ${unacknowledged.join(', ')}`).toBeLessThanOrEqual(2);
      for (const p of records) earlier.add(p);
      expect(records.size).toBeGreaterThanOrEqual(previous);
      previous = records.size;
    }
    expect(acknowledged.size).toBeGreaterThan(ROUNDS * 2);
    expect(killedMidWrite, 'no kill landed inside a write: the test proved nothing').toBeGreaterThan(0);
    // The next ordinary write cleans up temp files and stale locks left by the victims.
    const store = openAllowlist(paths, defaultConfig());
    store.allow('/after/.envrc', contentHash('/after/.envrc', Buffer.from('/after/.envrc')));
    expect(readdirSync(paths.dataDir).sort()).toEqual(['allowlist.json', 'signing.key']);
  });
});

describe('the write lock', () => {
  function lockFile(): string {
    return `${paths.allowlistFile}.lock`;
  }

  async function deadPid(): Promise<number> {
    const p = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => p.on('exit', r));
    if (p.pid === undefined) throw new Error('no pid');
    return p.pid;
  }

  it('a lock left by a dead process is broken at once', async () => {
    const store = openAllowlist(paths, defaultConfig(), { lock: { timeoutMs: 5_000 } });
    store.allow('/a/.envrc', '1'.repeat(64));
    writeFileSync(lockFile(), `${await deadPid()} ${hostname()} 00ff ${Date.now()}\n`);
    const t0 = Date.now();
    store.allow('/b/.envrc', '2'.repeat(64));
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(store.check('/b/.envrc', '2'.repeat(64)).kind).toBe('allowed');
    expect(existsSync(lockFile())).toBe(false);
  });

  it('a live holder is waited for, then a clear error names it', () => {
    const store = openAllowlist(paths, defaultConfig(), { lock: { timeoutMs: 300 } });
    store.allow('/a/.envrc', '1'.repeat(64));
    writeFileSync(lockFile(), `${process.pid} ${hostname()} 00ff ${Date.now()}\n`);
    const t0 = Date.now();
    let err: unknown;
    try { store.allow('/b/.envrc', '2'.repeat(64)); } catch (e) { err = e; }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(err).toBeInstanceOf(EnvdError);
    expect((err as EnvdError).code).toBe('ALLOWLIST_LOCKED');
    expect((err as EnvdError).message).toContain(`process ${process.pid}`);
    expect((err as EnvdError).message).toContain(lockFile());
    // The holder's lock is untouched and the store unchanged.
    expect(readFileSync(lockFile(), 'utf8')).toContain(`${process.pid} `);
    expect(store.check('/b/.envrc', '2'.repeat(64)).kind).toBe('unknown');
  });

  it('a lock older than the stale limit is broken even if its pid is alive (pid reuse)', () => {
    const store = openAllowlist(paths, defaultConfig(), { lock: { timeoutMs: 2_000, staleMs: 500 } });
    store.allow('/a/.envrc', '1'.repeat(64));
    writeFileSync(lockFile(), `${process.pid} ${hostname()} 00ff ${Date.now() - 60_000}\n`);
    store.allow('/b/.envrc', '2'.repeat(64));
    expect(store.check('/b/.envrc', '2'.repeat(64)).kind).toBe('allowed');
  });
});
