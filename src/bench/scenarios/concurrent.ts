/**
 * 50 real interactive bash processes, each with the tool's hook, each in its own project.
 * In every round all 50 wait at a barrier (one FIFO per shell, so no shell can take
 * another's turn), are released together, and do one `cd` + prompt: into their project,
 * or out of it in the next round. One sample = one shell's cd + prompt. Checked after each.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { enter, runProblem } from '../context.js';
import { barrier, cd, cdPrompt, expect, prompt, promptUntil, repeat, time } from '../plan.js';
import { startPlan } from '../run.js';
import { percentile, formatMicros } from '../stats.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { HookClient } from '../hook-client.js';
import { ZshClientPool } from '../zsh-clients.js';
import { measureFloor } from '../floor-server.js';
import { cpuNs } from '../proc-cpu.js';
import { EnvdTool, TOOLS } from '../tools.js';
import { eachTool, makeProjects, newRow, NO_DAEMON, smallSpec, type Project, type Scenario } from './common.js';

const SHELLS = 50;
const STALE = 'unanswered';

export const concurrent: Scenario = {
  id: 'concurrent',
  about: `${SHELLS} bash shells released at once, each doing cd + prompt into or out of its project`,
  async run(ctx) {
    if (!ctx.opts.shells.includes('bash')) return [];
    const rounds = ctx.n(20, 6);
    const stat = `${SHELLS} shells × ${rounds} rounds = ${SHELLS * rounds} requests`;
    const p50 = newRow('concurrent-p50', `${SHELLS} shells cd at once: p50`, 'bash', stat);
    const p99 = newRow('concurrent-p99', `${SHELLS} shells cd at once: p99`, 'bash', stat, [
      { kind: 'max', max: 5000, text: `${SHELLS} concurrent shells p99 ≤ 5 ms` },
    ]);
    await eachTool(ctx, p99, TOOLS, async (tool) => {
      const box = await ctx.box(tool, 'concurrent');
      const fifos: number[] = [];
      try {
        const projects = await makeProjects(tool, box, 'c', SHELLS, smallSpec);
        const started = projects.map((p, i) => {
          const fifo = join(box.root, `barrier-${i}`);
          spawnSync('mkfifo', ['-m', '600', fifo]);
          // Read-write: opening does not wait for the shell, and the shell's `<>` open
          // does not wait for us.
          fifos.push(openSync(fifo, constants.O_RDWR));
          return { p, fifo };
        });
        let ready = 0;
        let released = 0;
        const onLine = (line: string): void => {
          if (line !== '@R') return;
          ready++;
          if (ready === SHELLS * (released + 1)) {
            released++;
            for (const fd of fifos) writeSync(fd, '\n');
          }
        };
        const runs = started.map(({ p, fifo }, i) =>
          startPlan(
            [
              cd(box.outside),
              prompt,
              ...enter(p.dir, p.name, p.value, 'warm-up enter'),
              ...cdPrompt(box.outside),
              promptUntil(p.name, null, 1000, 0.01),
              expect(p.name, null, 'warm-up leave'),
              repeat(rounds / 2, [
                barrier(fifo),
                time('req', cdPrompt(p.dir)),
                // A prompt that came back without the change (the hook gave up waiting)
                // is counted as unanswered; later prompts must still get it right.
                expect(p.name, p.value, STALE),
                promptUntil(p.name, p.value, 1000, 0.01),
                expect(p.name, p.value, 'entered'),
                barrier(fifo),
                time('req', cdPrompt(box.outside)),
                expect(p.name, null, STALE),
                promptUntil(p.name, null, 1000, 0.01),
                expect(p.name, null, 'left'),
              ]),
            ],
            {
              shell: 'bash',
              rcFile: tool.rcFile(box, 'bash'),
              scriptFile: box.scriptPath(`c${i}.bash`),
              env: box.env,
              cwd: box.outside,
              timeoutMs: 300_000,
              onLine,
            },
          ),
        );
        const results = await Promise.all(runs.map((r) => r.done));
        const answered: number[] = [];
        let stale = 0;
        const isStale = (f: string): boolean => f.startsWith(`${STALE} `);
        for (const r of results) {
          const problem = runProblem(r, { req: rounds }, isStale);
          if (problem !== null) {
            p50.cells[tool.name] = { value: null, n: 0, failed: problem };
            return { value: null, n: 0, failed: problem };
          }
          // Each sample is followed by its check; a stale mark belongs to the sample before it.
          let last: number | null = null;
          for (const ev of r.events) {
            if ('label' in ev) {
              if (last !== null) answered.push(last);
              last = ev.label === 'req' ? ev.us : null;
            } else if (isStale(ev.failure) && last !== null) {
              stale++;
              last = null;
            }
          }
          if (last !== null) answered.push(last);
        }
        // An unanswered request counts as slower than every answered one.
        const ranked = [...answered, ...Array<number>(stale).fill(Infinity)];
        const staleNote = stale > 0 ? `${stale} of ${ranked.length} prompts came back unchanged (the hook stopped waiting); counted as slowest` : '';
        const v50 = percentile(ranked, 50);
        const v99 = percentile(ranked, 99);
        p50.cells[tool.name] = Number.isFinite(v50) ? { value: v50, n: ranked.length } : { value: null, n: ranked.length, failed: staleNote };
        const maxAnswered = `max answered ${formatMicros(Math.max(...answered))}`;
        if (!Number.isFinite(v99)) return { value: null, n: ranked.length, failed: `${staleNote}; ${maxAnswered}` };
        return { value: v99, n: ranked.length, note: [maxAnswered, staleNote].filter((x) => x !== '').join('; ') };
      } finally {
        for (const fd of fifos.splice(0)) closeSync(fd);
        await ctx.dropBox(tool, 'concurrent');
      }
    });
    return [p50, p99];
  },
};

/**
 * The daemon alone under a burst of 50 clients speaking the hook protocol on the socket as
 * the zsh hook does (src/bench/hook-client.ts), released together in each round. Each
 * client has its own thread (hook-pool.ts), as each shell is its own process: its time
 * runs from its write to its reply, not behind the replies of the other 49 in one event
 * loop. No shell competes for the two cores here, so this is the daemon's own latency per
 * request, with 50 waking clients. envd only: the others have no daemon.
 *
 * The rows time what the target is about, answers the daemon has already worked out: all
 * 50 shells sit in their projects, a file the daemon watches changes elsewhere (the
 * generation moves, so every hook asks at its next prompt), and all 50 ask at once. After
 * each burst the 51st shell, in the project whose file changed, asks as well (its answer is
 * worked out again and its directory watched again, so the next round's change is seen);
 * a round whose change does not move the generation fails the row. The note adds the other
 * burst, 50 shells changing directory at once: every entry runs its .envrc (flag `n`, as
 * direnv re-runs it), so that one is 50 evaluations on the machine's cores, and no cache
 * can stand in for it.
 */
export const concurrentSocket: Scenario = {
  id: 'concurrent-socket',
  about: `${SHELLS} hook-protocol clients on the daemon's socket at once, asking at a prompt after a change elsewhere (and, in the note, changing directory)`,
  async run(ctx) {
    const rounds = ctx.n(40, 10);
    const stat = `${SHELLS} clients × ${rounds} rounds = ${SHELLS * rounds} requests`;
    const p50 = newRow('socket-p50', `${SHELLS} hook clients at once: p50`, null, stat);
    const p99 = newRow('socket-p99', `${SHELLS} hook clients at once: p99`, null, stat, [
      { kind: 'max', max: 5000, text: `${SHELLS} concurrent hook clients p99 ≤ 5 ms` },
    ]);
    await eachTool(ctx, p99, ['envd'], async (tool) => {
      if (!(tool instanceof EnvdTool)) throw new Error('not envd');
      const box = await ctx.box(tool, 'socket');
      let pool: ZshClientPool | null = null;
      let watching: HookClient | null = null;
      try {
        const projects = await makeProjects(tool, box, 's', SHELLS, smallSpec);
        const [elsewhere] = await makeProjects(tool, box, 'x', 1, smallSpec);
        if (elsewhere === undefined) throw new Error('no project');
        const socket = tool.socket(box);
        const base: Record<string, string> = { ...box.env, SHLVL: '1', PWD: box.outside };
        // Flag `n` on every cd, as the bash and zsh hooks send it: a client that left it out
        // would be served the memoized answer a real shell never gets on entry.
        const shells = new ZshClientPool(socket, base, 'c', SHELLS, join(box.root, 'clients'), { entering: true });
        pool = shells;
        const envs: Array<Record<string, string>> = [];
        const has = (i: number, name: string, want: string | null): boolean => ((envs[i] ?? {})[name] ?? null) === want;
        const settle = async (ask: () => Promise<unknown>, holds: () => boolean, what: string): Promise<void> => {
          for (let i = 0; i < 500; i++) {
            await ask();
            if (holds()) return;
            await sleep(20);
          }
          throw new Error(`warm-up: ${what} never came`);
        };
        // `current`: also until an answer changes nothing (see the prompt burst's warm-up).
        const settleShell = (i: number, p: Project, entered: boolean, current = false): Promise<void> => {
          let changed = false;
          return settle(async () => {
            const a = await shells.ask(i, entered ? p.dir : box.outside);
            envs[i] = a.env;
            changed = a.records.some((r) => r.t === 'x' || r.t === 'u');
          }, () => (!current || !changed) && has(i, p.name, entered ? p.value : null),
          `${p.name} ${entered ? `in ${p.dir}` : 'unset outside'}${current ? ', current' : ''}`);
        };
        const w = new HookClient(socket, base, 'cx', { entering: true });
        watching = w;
        // The 51st shell stays in its project: the daemon watches that project's files.
        const settleWatching = (): Promise<void> => settle(() => w.ask(elsewhere.dir),
          () => (w.env[elsewhere.name] ?? null) === elsewhere.value, `${elsewhere.name} in ${elsewhere.dir}`);
        await Promise.all(projects.map(async (p, i) => {
          await settleShell(i, p, true);
          await settleShell(i, p, false);
        }));
        await settleWatching();
        // Projects and the allowlist a second old, as a user's are (the daemon keeps no
        // answer derived from a file changed in the last second: answer-memo.ts).
        await sleep(1100);

        // The cd burst (the note): entering runs the file, leaving is the shell's own state.
        const bySide: Record<'enter' | 'leave', number[]> = { enter: [], leave: [] };
        let cdStale = 0;
        for (let r = 0; r < rounds; r++) {
          const entering = r % 2 === 0;
          const answers = await shells.burst(projects.map((p) => entering ? p.dir : box.outside));
          for (const [i, a] of answers.entries()) {
            const p = projects[i];
            if (p === undefined) continue;
            envs[i] = a.env;
            if (!has(i, p.name, entering ? p.value : null)) {
              cdStale++;
              await settleShell(i, p, entering);
            } else bySide[entering ? 'enter' : 'leave'].push(a.us);
          }
        }
        // Every shell in its project now (the last round entered), its answers a second old,
        // and current, as a shell is at its prompts after an entry: fifty entries at once
        // run one after another, so most were answered with the last result while theirs
        // ran (a stand-in, which the next request replaces); asked until an answer changes
        // nothing. Otherwise the first timed round would be those shells' first prompt
        // after their evaluations finished, the whole path for most of them.
        await Promise.all(projects.map((p, i) => settleShell(i, p, true, true)));
        await sleep(1100);

        // The prompt burst (the rows): a change elsewhere, then all 50 ask at once. Round 0
        // is a warm-up, not in the rows (the first burst after the pause above); its
        // figures go in the note.
        const generationFile = join(dirname(socket), 'generation');
        const envrc = join(elsewhere.dir, '.envrc');
        const samples: number[] = [];
        const first: number[] = [];
        const start = await tool.helloInfo(box);
        const watchedBefore = start.watched;
        // The daemon's own CPU time during the timed bursts, from each release to the last
        // reply (the 51st shell's request and the hellos between bursts are left out).
        const pid = await tool.daemonPid(box);
        let burstCpuNs = 0;
        // Each client process's own CPU from its release to its reply (zsh-clients.ts).
        let clientCpuNs = 0;
        let clientCpuN = 0;
        // Requests answered from kept replies: counted from just before each burst (the last
        // hello of the round before) to just after it, so the 51st shell's are left out.
        let replayedMark = start.replayed;
        let replayed = 0;
        let stale = 0;
        for (let r = 0; r <= rounds; r++) {
          const before = readFileSync(generationFile, 'utf8');
          // Same bytes, a new mtime: still approved, and the watcher reports a change.
          writeFileSync(envrc, readFileSync(envrc));
          let moved = false;
          for (let i = 0; i < 300 && !moved; i++) {
            moved = readFileSync(generationFile, 'utf8') !== before;
            if (!moved) await sleep(10);
          }
          if (!moved) throw new Error(`round ${r}: the generation did not move within 3 s of the change`);
          const cpu0 = cpuNs(pid);
          const answers = await shells.burst(projects.map((p) => p.dir));
          if (r > 0) burstCpuNs += cpuNs(pid) - cpu0;
          if (r > 0) replayed += (await tool.replayed(box)) - replayedMark;
          for (const [i, a] of answers.entries()) {
            const p = projects[i];
            if (p === undefined) continue;
            envs[i] = a.env;
            if (!has(i, p.name, p.value)) {
              if (r > 0) stale++;
              await settleShell(i, p, true);
            } else (r > 0 ? samples : first).push(a.us);
            if (r > 0 && a.cpuNs !== null) { clientCpuNs += a.cpuNs; clientCpuN++; }
          }
          // The shell in the changed project asks at its prompt too; the next round's change
          // is seen once its directory is watched again.
          await settleWatching();
          for (let i = 0; ; i++) {
            const h = await tool.helloInfo(box);
            replayedMark = h.replayed;
            if (h.watched >= watchedBefore && h.watchPending === 0) break;
            if (i >= 300) throw new Error(`round ${r}: ${elsewhere.dir} was not watched again within 3 s`);
            await sleep(10);
          }
        }
        const ranked = [...samples, ...Array<number>(stale).fill(Infinity)];
        const staleNote = stale > 0 ? `${stale} answers were 'still loading' or wrong; counted as slowest` : '';
        const v50 = percentile(ranked, 50);
        const v99 = percentile(ranked, 99);
        p50.cells.envd = Number.isFinite(v50) ? { value: v50, n: ranked.length } : { value: null, n: ranked.length, failed: staleNote };
        const cd = (['enter', 'leave'] as const).filter((k) => bySide[k].length > 0)
          .map((k) => `${k} p50 ${formatMicros(percentile(bySide[k], 50))} p99 ${formatMicros(percentile(bySide[k], 99))}`).join(', ');
        const firstNote = first.length > 0 ? `round 0 (a warm-up, not in the rows): p50 ${formatMicros(percentile(first, 50))} max ${formatMicros(Math.max(...first))}; ` : '';
        const clientNote = clientCpuN > 0 ? ` (each client: ${formatMicros(clientCpuNs / 1000 / clientCpuN)} from its release to its reply)` : '';
        const cpuNote = `daemon CPU ${formatMicros(burstCpuNs / 1000 / (SHELLS * rounds))} per request in the bursts${clientNote}`;
        // The same clients against a Node server that only answers (floor-server.ts).
        const floor = await measureFloor(join(box.root, 'floor'), SHELLS, rounds);
        const floorNote = `the floor, a Node server with the daemon's flags answering each request with a fixed reply, same clients: p50 ${formatMicros(floor.p50Us)} p99 ${formatMicros(floor.p99Us)}, its CPU ${formatMicros(floor.cpuUs)} per request`;
        const maxNote = `max ${formatMicros(Math.max(...samples))}; ${replayed} of ${SHELLS * rounds} served from kept replies; ${cpuNote}; ${floorNote}; ${firstNote}`
          + `50 shells changing directory at once: ${cd}${cdStale > 0 ? ` (${cdStale} asked again)` : ''}`;
        if (!Number.isFinite(v99)) return { value: null, n: ranked.length, failed: `${staleNote}; ${maxNote}` };
        return { value: v99, n: ranked.length, note: [maxNote, staleNote].filter((x) => x !== '').join('; ') };
      } finally {
        watching?.close();
        await pool?.close();
        await ctx.dropBox(tool, 'socket');
      }
    });
    for (const row of [p50, p99]) {
      row.cells.direnv = { value: null, n: 0, note: NO_DAEMON };
      row.cells.mise = { value: null, n: 0, note: NO_DAEMON };
    }
    return [p50, p99];
  },
};
