import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox } from './helpers/sandbox.js';

// On the daemon's door pairs, bin/envd's front door leaves its environment to the daemon,
// which reads /proc/PID/environ of the pid the front door names once that process is seen
// holding the pair open (src/daemon/door-env.ts).

const NODE_MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

/** A project whose .envrc shows what the evaluation was given; the daemon running, its door pairs made. */
function ready(): { sb: Sandbox; dir: string; sh: string } {
  const sb = new Sandbox();
  sandboxes.push(sb);
  const dir = sb.mkdir('p');
  sb.write('p/.envrc', 'export SEEN="${MARK-none}" ODD="$(env | while IFS= read -r l; do case $l in A.B=*) printf %s "$l" ;; esac; done)"\n');
  expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
  expect(sb.envd(['daemon', 'start']).status).toBe(0);
  const sh = join(sb.runtimeDir, 'sh');
  // The first export asks for the door pairs (with a pair of its own).
  expect(sb.envd(['export', 'json'], { cwd: dir }).status).toBe(0);
  const made = (): boolean => readdirSync(sh).filter((f) => /^door-[0-7]\.(req|res|env)$/.test(f)).length === 24;
  for (let i = 0; i < 100 && !made(); i++) spawnSync('sleep', ['0.05']);
  expect(made()).toBe(true);
  // DIRENV_WATCHES records a file's mtime one second early while its second is not over
  // ("racily clean", docs/architecture.md): past that second, every answer sees the same.
  spawnSync('sleep', ['1.2']);
  return { sb, dir, sh };
}

describe('the environment of a door pair\'s request', () => {
  it('is read from /proc: the CLI\'s bytes, with a name that is no identifier and a value that is not UTF-8', () => {
    const { sb, dir, sh } = ready();
    const script = 'exec env "A.B=1 2" MARK=$\'x\\xffy\' "$@"';
    const viaDoor = sb.run('bash', ['-c', script, 'bash', ENVD_BIN, 'export', 'json'], { cwd: dir });
    const viaNode = sb.run('bash', ['-c', script, 'bash', process.execPath, NODE_MAIN, 'export', 'json'], { cwd: dir });
    expect(viaDoor.status, viaDoor.stderr).toBe(0);
    expect(viaNode.status, viaNode.stderr).toBe(0);
    expect(viaDoor.stdout).toBe(viaNode.stdout);
    expect(JSON.parse(viaDoor.stdout)).toMatchObject({ ODD: 'A.B=1 2' });
    // It went through a door pair: its `.env` holds the entry that leaves it to /proc.
    const envs = readdirSync(sh).filter((f) => /^door-[0-7]\.env$/.test(f)).map((f) => readFileSync(join(sh, f), 'latin1'));
    expect(envs.some((e) => /^#envd \/proc [0-9]+ [0-9]+\0#envd /.test(e))).toBe(true);
  });

  it('is never another process\'s: one named that does not hold the pair gets no answer', () => {
    const { sb, dir, sh } = ready();
    // A request made by hand on a door pair, its `#envd /proc PID FD` naming this shell and
    // the descriptor it holds the pair's `.req` on: answered with its environment. The same
    // on another pair naming `sleep` (same user, MARK=intruder), which does not hold it: no
    // answer comes (the daemon drops that pair).
    const ask = (whose: 'sleep' | 'self', slot: number): string => sb.shell('bash', `
      MARK=intruder sleep 30 </dev/null >/dev/null 2>&1 & other=$!
      b=${join(sh, `door-${slot}`)}
      pid=$$; [[ ${whose} == self ]] || pid=$other
      id=12345$$
      [[ ! -s $b.lock ]] || exit 3
      printf '%s %s\\n' "$$" "$id" >> "$b.lock"
      exec {q}<>"$b.req" {r}<>"$b.res"
      printf '#envd /proc %s %s\\0#envd %s\\0' "$pid" "$q" "$id" 1<>"$b.env"
      printf '%s\\0' ENVD-HOOK 1 "$id" bash Etj "$PWD" '' >&"$q"
      got=''; IFS= read -r -t 5 -u "$r" got
      kill "$other"
      printf -- '-%s\\n' "$id" >> "$b.lock"
      if [[ $got == "d $id" ]]; then tr '\\0' '\\n' < "$b.out"; else echo none; fi
    `, { cwd: dir, env: { MARK: 'mine' } }).stdout;
    expect(ask('self', 6)).toContain('"SEEN": "mine"');
    expect(ask('sleep', 7)).toBe('none\n');
  });
});
