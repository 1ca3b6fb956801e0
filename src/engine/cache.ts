import { createHash } from 'node:crypto';
import { diffBetween, type Env } from '../env/diff.js';
import { newNameMap } from '../env/map.js';
import { PER_TERMINAL } from '../env/names.js';
import type { EvalResult } from './evaluate.js';
import { stillValid, type Fingerprint } from './fingerprint.js';
import { keepLatest } from '../util/recent.js';

/** What a cached result is for: the directory as found, the file's place and content hash, its kind. */
export interface CacheTarget {
  dir: string;
  realFile: string;
  hash: string;
  kind: string;
}

interface Entry {
  result: EvalResult;
  /** What to re-run in the background when a dependency changes. */
  rerun: () => Promise<EvalResult>;
}

export interface ResultCacheOptions {
  /** Entries kept (least recently used go first); also the number of distinct bases kept. */
  max?: number;
  /** Called whenever an evaluation started here finishes, whatever its result. */
  onSettled?: () => void;
}

/**
 * Evaluation results by key (file, content, starting environment), least recently used
 * first out; evaluations in flight, so a second request for one key joins the first; and
 * what the results depend on, so a change on disk drops (and re-runs) exactly those.
 * Knows nothing of shells, trust or bash: a run is any function that returns an EvalResult
 * (test/engine-result-cache.test.ts).
 */
export class ResultCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<EvalResult>>();
  private readonly bases = new Map<string, Env>();
  /**
   * What results being worked out again in the background depended on. They stay in
   * dependencies() meanwhile: dropping them would unwatch the project for the length of
   * the run, and an edit made then would go unseen.
   */
  private readonly refreshing = new Map<string, readonly Fingerprint[]>();
  /**
   * What dropped results (their env file changed, or a lookup found them out of date)
   * depended on, by env file, until that file has a result again. Shells in the project
   * still depend on these files: unwatching them would only set the watch up again at the
   * next evaluation, and miss edits meanwhile.
   */
  private readonly lingering = new Map<string, readonly Fingerprint[]>();
  /** Runs in a row, per key, whose result was out of date when it landed. */
  private readonly outdated = new Map<string, number>();
  private readonly max: number;
  private moves = 0;

  constructor(private readonly opts: ResultCacheOptions = {}) {
    this.max = opts.max ?? 512;
  }

  /** Moves whenever the set of dependencies may have changed (not on LRU reordering). */
  get version(): number {
    return this.moves;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The key of a result: the target, and the base environment less what differs between terminals. */
  key(t: CacheTarget, base: Env): string {
    const h = createHash('sha256');
    // The directory as found too: the evaluation runs there (PATH_add bin gives that
    // spelling of it), so a result belongs to it.
    h.update(`${t.dir}\0${t.realFile}\0${t.hash}\0${t.kind}\0`);
    for (const k of Object.keys(base).sort()) {
      if (PER_TERMINAL.has(k)) continue;
      h.update(`${k}\0${base[k] ?? ''}\0`);
    }
    return h.digest('hex');
  }

  /**
   * One shared copy of each distinct starting environment (without what differs between
   * terminals), so 500 cached projects of one user do not hold 500 copies of it.
   */
  internBase(base: Env): Env {
    const stable: Env = newNameMap();
    for (const k of Object.keys(base).sort()) if (!PER_TERMINAL.has(k)) stable[k] = base[k] ?? '';
    const key = createHash('sha256').update(JSON.stringify(stable)).digest('hex');
    const known = this.bases.get(key);
    if (known !== undefined) return known;
    if (this.bases.size >= this.max) this.bases.clear();
    this.bases.set(key, stable);
    return stable;
  }

  /** The result for a key if every fingerprint it depends on still matches (else dropped). */
  get(key: string): EvalResult | null {
    const e = this.entries.get(key);
    if (e === undefined) return null;
    if (!stillValid(e.result.deps)) {
      this.entries.delete(key);
      this.linger(e.result.deps);
      this.moves++;
      return null;
    }
    // Keep recently used entries last (Map order) for eviction.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.result;
  }

  /** Start (or join) an evaluation; its result lands in the cache unless it is `blocked`. */
  start(key: string, run: () => Promise<EvalResult>): Promise<EvalResult> {
    const existing = this.inflight.get(key);
    if (existing !== undefined) return existing;
    const p = run().then((result) => {
      this.inflight.delete(key);
      if (this.refreshing.delete(key)) this.moves++;
      if (result.kind !== 'blocked') this.land(key, result, run);
      this.settled();
      return result;
    }, (err: unknown) => {
      this.inflight.delete(key);
      if (this.refreshing.delete(key)) this.moves++;
      // A run that failed ends a series of outdated ones: no count is left behind for the key.
      this.outdated.delete(key);
      throw err;
    });
    this.inflight.set(key, p);
    return p;
  }

  /**
   * Keep a finished result, unless a file it depends on changed while it ran (its
   * fingerprints are taken before each file is read, evaluate.ts): such a result is
   * handed to whoever waited for it but not kept, and the run starts again in the
   * background, at most twice in a row, so a file rewritten on every run cannot keep
   * the daemon evaluating. Not when the env file itself changed (as in invalidate): a run
   * again would be of the bytes hashed before, which the file no longer holds; the next
   * request reads what it holds now and judges its approval.
   */
  private land(key: string, result: EvalResult, run: () => Promise<EvalResult>): void {
    if (!stillValid(result.deps)) {
      const n = this.outdated.get(key) ?? 0;
      if (n >= 2 || !stillValid(result.deps.slice(0, 1))) {
        this.outdated.delete(key);
        this.linger(result.deps);
        return;
      }
      this.outdated.set(key, n + 1);
      this.refresh(key, run, result.deps);
      return;
    }
    this.outdated.delete(key);
    this.lingering.delete(result.deps[0]?.p ?? '');
    keepLatest(this.entries, key, { result, rerun: run }, this.max);
    this.moves++;
  }

  /** Run again in the background, its old dependencies watched until it lands. */
  private refresh(key: string, run: () => Promise<EvalResult>, deps: readonly Fingerprint[]): void {
    this.refreshing.set(key, deps);
    this.moves++;
    // Nobody waits for this refresh: a failure must not become an unhandled rejection
    // (which ends the daemon). It leaves no entry; the next request evaluates and reports.
    this.start(key, run).catch(() => undefined);
  }

  /**
   * Start an evaluation that is not joined to one already running (which may have begun
   * before what the caller wants fresh); its result replaces the cached one.
   */
  startFresh(key: string, run: () => Promise<EvalResult>): Promise<EvalResult> {
    const running = this.inflight.get(key);
    if (running === undefined) return this.start(key, run);
    return running.catch(() => undefined).then(() => this.start(key, run));
  }

  /**
   * Paths changed on disk: drop the results that depended on one (a path, a file under a
   * watched directory, or a directory above a dependency) and run again in the background
   * those whose env file (their first fingerprint) is unchanged, so its approval holds.
   */
  invalidate(changed: readonly string[]): void {
    const hit = (d: Fingerprint): boolean => changed.some((c) => d.p === c || c.startsWith(d.p + '/') || d.p.startsWith(c + '/'));
    for (const [key, entry] of [...this.entries]) {
      if (!entry.result.deps.some(hit)) continue;
      this.entries.delete(key);
      this.moves++;
      if (stillValid(entry.result.deps.slice(0, 1))) this.refresh(key, entry.rerun, entry.result.deps);
      else this.linger(entry.result.deps);
    }
  }

  /** Keep a dropped result's files listed until its env file has a result again (bounded). */
  private linger(deps: readonly Fingerprint[]): void {
    const file = deps[0]?.p;
    if (file === undefined) return;
    keepLatest(this.lingering, file, deps, this.max);
  }

  clear(): void {
    this.entries.clear();
    this.lingering.clear();
    this.moves++;
  }

  /** Every path the cached results depend on (to watch). */
  dependencies(): string[] {
    const out = new Set<string>();
    for (const e of this.entries.values()) for (const d of e.result.deps) out.add(d.p);
    for (const deps of this.refreshing.values()) for (const d of deps) out.add(d.p);
    for (const deps of this.lingering.values()) for (const d of deps) out.add(d.p);
    return [...out];
  }

  /** Resolves when every evaluation in flight has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()]);
  }

  private settled(): void {
    try { this.opts.onSettled?.(); } catch { /* a listener's problem is not ours */ }
  }
}

/** Keep only what the evaluation changed (per-terminal names never count): small to cache. */
export function compactResult(r: EvalResult, base: Env): EvalResult {
  if (r.env === null) return r;
  const delta = newNameMap<string | null>();
  const d = diffBetween(base, r.env, (n) => !PER_TERMINAL.has(n));
  for (const [n, v] of Object.entries(d.next)) delta[n] = v;
  return { ...r, env: null, delta };
}
