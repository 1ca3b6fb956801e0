import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HookClient } from '../src/bench/hook-client.js';
import type { HookRecord } from '../src/protocol/hook-records.js';
import { allowIn, Sandbox } from './helpers/sandbox.js';

// The daemon keeps hook answers by request and replays one only while every file it was
// derived from is unchanged (src/daemon/answer-memo.ts). With the watcher off nothing else
// tells the daemon about an edit: these requests are the same bytes before and after it,
// so a replay that skipped its stamps would answer as before the edit.

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

function setup(): { sb: Sandbox; project: string; outside: string; client: HookClient } {
  const sb = new Sandbox();
  sandboxes.push(sb);
  const project = sb.mkdir('p');
  const outside = sb.mkdir('out');
  sb.write('p/.envrc', 'export MEMO_A=one\n');
  sb.mkdir('p/sub');
  const r = sb.envd(['daemon', 'start'], { env: { ENVD_NO_WATCH: '1' } });
  if (r.status !== 0) throw new Error(r.stderr);
  allowIn(sb, project);
  const client = new HookClient(join(sb.runtimeDir, 'daemon.sock'), { ...sb.env, PWD: outside, SHLVL: '1' }, 't');
  return { sb, project, outside, client };
}

const messages = (records: HookRecord[]): string => records.flatMap((r) => (r.t === 'm' ? [r.text] : [])).join('\n');
const changes = (records: HookRecord[]): HookRecord[] => records.filter((r) => r.t === 'x' || r.t === 'u');

/** Ask until the answer is no longer `pending` (the first evaluation may take longer than the budget). */
async function enter(client: HookClient, dir: string): Promise<void> {
  for (let i = 0; i < 200 && client.env.MEMO_A === undefined; i++) {
    const a = await client.ask(dir);
    if (!a.records.some((r) => r.t === 'p')) break;
    await sleep(50);
  }
  expect(client.env.MEMO_A).toBe('one');
}

/** Files a second old, as the memo wants them: it keeps nothing derived from a newer one. */
const settle = (): Promise<void> => sleep(1200);

describe('memoized hook answers', () => {
  it('an edit to the loaded .envrc is seen by the next identical request', async () => {
    const { sb, project, client } = setup();
    await enter(client, project);
    await settle();
    // Twice the same request: the second is a replay.
    for (let i = 0; i < 2; i++) expect(changes((await client.ask(project)).records)).toEqual([]);
    sb.write('p/.envrc', 'export MEMO_A=two\n');
    const after = await client.ask(project);
    expect(messages(after.records)).toContain('is blocked');
  });

  it('a new .envrc nearer to the working directory is found by the next identical request', async () => {
    const { sb, project, client } = setup();
    const sub = join(project, 'sub');
    await enter(client, sub);
    await settle();
    for (let i = 0; i < 2; i++) expect(changes((await client.ask(sub)).records)).toEqual([]);
    sb.write('p/sub/.envrc', 'export MEMO_B=nearer\n');
    const after = await client.ask(sub);
    expect(messages(after.records)).toContain('sub/.envrc is blocked');
  });

  it('leaving is replayed, and a new .envrc where the shell stands is found', async () => {
    const { sb, project, outside, client } = setup();
    await enter(client, project);
    await settle();
    const env = { ...client.env };
    // The same leave request twice (the client's env put back): the same answer.
    const first = await client.ask(outside);
    expect(client.env.MEMO_A).toBeUndefined();
    client.env = { ...env };
    const second = await client.ask(outside);
    expect(changes(second.records)).toEqual(changes(first.records));
    await client.ask(outside);
    expect(changes((await client.ask(outside)).records)).toEqual([]);
    sb.write('out/.envrc', 'export MEMO_C=here\n');
    expect(messages((await client.ask(outside)).records)).toContain('out/.envrc is blocked');
  });

  it('an approval withdrawn is seen by the next identical request', async () => {
    const { sb, project, client } = setup();
    await enter(client, project);
    await settle();
    for (let i = 0; i < 2; i++) expect(changes((await client.ask(project)).records)).toEqual([]);
    const r = sb.envd(['deny'], { cwd: project });
    expect(r.status, r.stderr).toBe(0);
    const after = await client.ask(project);
    expect(client.env.MEMO_A).toBeUndefined();
    expect(after.records.length).toBeGreaterThan(0);
  });

  // The files every answer shares (config, extensions, allowlist, key) are checked as one
  // group per batch of requests (src/daemon/stat-batch.ts group), missing ones through the
  // directory that stands for them (answer-memo.ts pathsFor): a new one there too must make
  // the daemon work the answer out again.
  it.each([
    ['~/.direnvrc, a file of the home directory (stamped itself)', null, 'home/.direnvrc'],
    ['~/.config/direnv/direnvrc, under a directory that does not exist (stamped through it)', null, 'home/.config/direnv/direnvrc'],
    ['~/.config/direnv/direnvrc, in a directory where three more are missing (stamped through it)', 'home/.config/direnv', 'home/.config/direnv/direnvrc'],
  ])('a new user extension, %s, is seen by the next identical request', async (_what, dir, file) => {
    const { sb, project, client } = setup();
    if (dir !== null) sb.mkdir(dir);
    await enter(client, project);
    await settle();
    const replayed = (): number => (JSON.parse(sb.envd(['daemon', 'status', '--json']).stdout) as { replayed: number }).replayed;
    const before = replayed();
    for (let i = 0; i < 2; i++) expect(changes((await client.ask(project)).records)).toEqual([]);
    // The second of those was a replay: the memo, not the whole path, sees the new file.
    expect(replayed()).toBeGreaterThan(before);
    sb.write(file, 'export MEMO_EXT=yes\n');
    for (let i = 0; i < 100 && client.env.MEMO_EXT === undefined; i++) {
      await client.ask(project);
      if (client.env.MEMO_EXT === undefined) await sleep(50);
    }
    expect(client.env.MEMO_EXT).toBe('yes');
  });

  it('leaving with flag n is replayed after an evaluation moved the generation, and carries the generation now', async () => {
    const { sb, project, outside } = setup();
    // Flag n on every cd, as the hooks send it: entering runs the file (a new generation).
    const client = new HookClient(join(sb.runtimeDir, 'daemon.sock'), { ...sb.env, PWD: outside, SHLVL: '1' }, 'n', { entering: true });
    const generationOf = (records: HookRecord[]): number => records.flatMap((r) => (r.t === 'g' ? [r.generation] : []))[0] ?? -1;
    const status = (): { replayed: number; generation: number } => JSON.parse(sb.envd(['daemon', 'status', '--json']).stdout) as { replayed: number; generation: number };
    const cycle = async (): Promise<number> => {
      await enter(client, project);
      const left = await client.ask(outside);
      expect(client.env.MEMO_A).toBeUndefined();
      return generationOf(left.records);
    };
    // Files a second old (the first run records what it sourced in the allowlist, a moment
    // later): the leave's answer is kept (worked out again once they are).
    await cycle();
    await settle();
    const first = await cycle();
    await settle();
    const before = status().replayed;
    const second = await cycle();
    const after = status();
    expect(second).toBeGreaterThan(first);
    expect(second).toBe(after.generation);
    expect(after.replayed).toBe(before + 1);
    client.close();
  });

  it('entering with flag n runs the file every time, never a kept answer', async () => {
    const { sb, project, outside } = setup();
    sb.write('p/.envrc', 'export MEMO_A=one MEMO_R=$RANDOM$RANDOM$RANDOM\n');
    allowIn(sb, project);
    const client = new HookClient(join(sb.runtimeDir, 'daemon.sock'), { ...sb.env, PWD: outside, SHLVL: '1' }, 'r', { entering: true });
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      await enter(client, project);
      seen.add(client.env.MEMO_R ?? '');
      await client.ask(outside);
      expect(client.env.MEMO_R).toBeUndefined();
      if (i === 0) await settle();
    }
    expect(seen.size).toBe(3);
    client.close();
  });
});
