import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, haveShell } from './helpers/sandbox.js';

// The benchmark harness itself (src/bench): one scenario, quick mode, one shell. It checks
// that the harness runs real shells, collects samples and prints its table; it asserts no
// timing (numbers belong in docs/benchmarks.md, not in a test).

const BENCH = join(ROOT, 'dist/bench/main.js');

/** One run of the bench that must finish cleanly: no cell FAILED, nothing `bad` said, exit 0. */
function runBench(args: readonly string[], timeout: number, bad = /FAILED|broke/): SpawnSyncReturns<string> {
  const r = spawnSync(process.execPath, [BENCH, '--quick', ...args, '--no-write', '--no-install'], { cwd: ROOT, encoding: 'utf8', timeout });
  expect(r.stderr).not.toMatch(bad);
  expect(r.status).toBe(0);
  return r;
}

beforeAll(() => {
  if (!existsSync(BENCH)) throw new Error(`dist/ is not built: run 'npm run build' first (${BENCH} is missing)`);
  haveShell('bash');
});

describe('npm run bench', () => {
  it('runs the idle scenario in bash in quick mode and prints the table', () => {
    const r = runBench(['--only', 'idle', '--shells', 'bash', '--tools', 'envd,direnv'], 50_000);
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('scenario'))).toMatch(/scenario\s+shell\s+envd\s+direnv\s+mise\s+envd÷direnv\s+envd÷mise/);
    const row = lines.find((l) => l.startsWith('idle prompt, project loaded'));
    expect(row).toBeDefined();
    // envd measured in bash (a number with a unit), mise reported as not selected.
    expect(row).toMatch(/^idle prompt, project loaded\s+bash\s+[0-9.]+ (µs|ms)\s/);
    expect(row).toMatch(/\smissing\s/);
    expect(r.stdout).toMatch(/Targets:\n {2}(MET|MISSED|NOT MEASURED): bash idle/);
  });

  it('times leave + enter in turns: a new shell per turn for each tool, both labels summed per pair', () => {
    const r = runBench(['--only', 'leave-enter', '--shells', 'bash', '--tools', 'envd,direnv'], 60_000);
    // Quick: 4 turns of 5 pairs each, every tool measured in every turn.
    expect(r.stderr).toMatch(/leave-enter bash envd: [0-9.]+ ms \(n=20; 4 turns of 5; leave [0-9.]+ (µs|ms), enter [0-9.]+ ms\)/);
    expect(r.stderr).toMatch(/leave-enter bash direnv: [0-9.]+ ms \(n=20; 4 turns of 5; leave [0-9.]+ (µs|ms), enter [0-9.]+ ms\)/);
    const row = r.stdout.split('\n').find((l) => l.startsWith('leave + enter, .envrc re-run on entry'));
    expect(row).toMatch(/\s+bash\s+[0-9.]+ ms\s+[0-9.]+ ms\s+missing\s+1\/[0-9.]+\s/);
  }, 70_000);

  it('runs the 50-hook-clients scenario in quick mode: zsh processes as clients, the generation moving in every round', () => {
    // A round whose change does not move the generation, or a client that never answers,
    // fails the row (src/bench/scenarios/concurrent.ts); the row then has no number.
    const r = runBench(['--only', 'concurrent-socket', '--tools', 'envd'], 120_000, /FAILED|broke|did not move|not watched again/);
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('50 hook clients at once: p99'))).toMatch(/^50 hook clients at once: p99\s+—\s+[0-9.]+ (µs|ms)\s/);
    expect(r.stdout).toMatch(/of 500 served from kept replies; daemon CPU [0-9.]+ (µs|ms) per request in the bursts \(each client: [0-9.]+ (µs|ms) from its release to its reply\); the floor, a Node server with the daemon's flags answering each request with a fixed reply, same clients: p50 [0-9.]+ (µs|ms) p99 [0-9.]+ (µs|ms), its CPU [0-9.]+ (µs|ms) per request; round 0 \(a warm-up, not in the rows\)/);
  }, 130_000);

  it('lists its scenarios', () => {
    const r = spawnSync(process.execPath, [BENCH, '--list'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    for (const id of ['idle', 'leave-enter', 'first-eval', 'slow', 'concurrent', 'rss', 'go']) expect(r.stdout).toMatch(new RegExp(`^${id}\\s`, 'm'));
  });
});
