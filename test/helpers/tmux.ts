import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox, Shell } from './sandbox.js';
import type { MoreShell } from './more-shells.js';

/**
 * A real interactive shell in a tmux pane (its own tmux server, its socket in the sandbox), with
 * envd's hook loaded from an rc file and nothing else. Each step types a command line,
 * then `__d N`, a function the rc defines that writes `env -0` to `$DUMPS/N`: the exact
 * exported environment after the prompt hook has run for that command.
 */
export type EnvMap = Record<string, string>;

export interface TmuxShellOptions {
  shell: Shell | MoreShell;
  sandbox: Sandbox;
  /** The rendered hook (output of `envd hook SHELL`). */
  hookFile: string;
  cwd: string;
  /** Shell lines run before the hook is loaded. */
  before?: string;
  /** Load the hook twice (it must register once). */
  sourceTwice?: boolean;
  /** Argv prefix for the shell, e.g. strace. */
  wrap?: string[];
  env?: Record<string, string>;
}

let counter = 0;

/** The shells started and not closed yet: closed when the test process exits. */
const LIVE = new Set<TmuxShell>();
process.on('exit', () => { for (const t of [...LIVE]) t.close(); });

/** The pids of the processes in these sessions (field 6 of /proc/PID/stat). */
function sessionMembers(sids: ReadonlySet<number>): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // After the command name's closing paren: state ppid pgrp session ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && sids.has(Number(fields[3]))) pids.push(Number(d));
    } catch { /* exited meanwhile */ }
  }
  return pids;
}

/** SIGKILL every process of these sessions until none is left (a tracer first frees its tracees). */
function killSessions(leaders: readonly number[]): void {
  if (leaders.length === 0) return;
  const sids = new Set(leaders);
  for (let round = 0; round < 50; round++) {
    const pids = sessionMembers(sids);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    spawnSync('sleep', ['0.02']);
  }
}

export function haveTmux(): boolean {
  const ok = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;
  if (!ok && process.env.ENVD_REQUIRE_SHELLS === '1') throw new Error('tmux is required (ENVD_REQUIRE_SHELLS=1): apt-get install -y tmux');
  if (!ok) process.stderr.write('[envd tests] SKIPPED: tmux is not installed; interactive shell tests are skipped\n');
  return ok;
}

export function parseEnv0(buf: Buffer): EnvMap {
  // No prototype: a shell variable may be called `__proto__` or `constructor`.
  const env = Object.create(null) as EnvMap;
  for (const entry of buf.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The rc lines that define the prompt, `__d` (dump) and `__st` (last status), per shell. */
function rcText(o: TmuxShellOptions, dumps: string): string {
  const hook = o.hookFile;
  const twice = o.sourceTwice === true;
  switch (o.shell) {
    case 'bash':
    case 'zsh':
      return [
        `DUMPS='${dumps}'`,
        o.shell === 'bash' ? "PS1='$ '" : "PROMPT='%% '",
        '__d() { env -0 > "$DUMPS/$1.tmp" && command mv -f "$DUMPS/$1.tmp" "$DUMPS/$1"; }',
        '__st() { local s=$?; echo "$s" > "$DUMPS/$1.tmp" && command mv -f "$DUMPS/$1.tmp" "$DUMPS/$1"; }',
        '__m() { : > "$DUMPS/$1"; }',
        o.before ?? '',
        `source '${hook}'`,
        twice ? `source '${hook}'` : '',
      ].join('\n') + '\n';
    case 'fish':
      return [
        `set -g DUMPS '${dumps}'`,
        "function fish_prompt; echo -n '> '; end",
        'function fish_greeting; end',
        'function __d; env -0 > $DUMPS/$argv[1].tmp; and command mv -f $DUMPS/$argv[1].tmp $DUMPS/$argv[1]; end',
        'function __st; set -l s $status; echo $s > $DUMPS/$argv[1].tmp; and command mv -f $DUMPS/$argv[1].tmp $DUMPS/$argv[1]; end',
        'function __m; echo -n > $DUMPS/$argv[1]; end',
        o.before ?? '',
        `source '${hook}'`,
        twice ? `source '${hook}'` : '',
      ].join('\n') + '\n';
    case 'elvish':
      // elvish has no $?: __st writes 0 (no test reads an elvish status).
      return [
        `var DUMPS = '${dumps}'`,
        "set edit:prompt = { put '> ' }",
        'set edit:rprompt = { }',
        'fn __d {|n| env -0 > $DUMPS/$n.tmp; mv -f $DUMPS/$n.tmp $DUMPS/$n }',
        'fn __st {|n| print 0 > $DUMPS/$n.tmp; mv -f $DUMPS/$n.tmp $DUMPS/$n }',
        "fn __m {|n| print '' > $DUMPS/$n }",
        o.before ?? '',
        `eval (slurp < '${hook}')`,
        twice ? `eval (slurp < '${hook}')` : '',
      ].join('\n') + '\n';
    case 'tcsh':
      // `envd hook tcsh` is one line to eval; sourcing the saved line is the same.
      return [
        `set DUMPS = '${dumps}'`,
        "set prompt = '> '",
        "alias __d 'env -0 > $DUMPS/\\!:1.tmp && mv -f $DUMPS/\\!:1.tmp $DUMPS/\\!:1'",
        "alias __st 'echo $status > $DUMPS/\\!:1.tmp && mv -f $DUMPS/\\!:1.tmp $DUMPS/\\!:1'",
        "alias __m 'echo -n > $DUMPS/\\!:1'",
        o.before ?? '',
        `source '${hook}'`,
        twice ? `source '${hook}'` : '',
      ].join('\n') + '\n';
    case 'nushell':
      // Prompts as closures: a string would be exported and show up in every dump.
      return [
        `const DUMPS = '${dumps}'`,
        '$env.config.show_banner = false',
        "$env.PROMPT_COMMAND = {|| '> ' }",
        "$env.PROMPT_COMMAND_RIGHT = {|| '' }",
        "$env.PROMPT_INDICATOR = {|| '' }",
        'def __d [n] { ^env -0 | save -f $"($DUMPS)/($n).tmp"; ^mv -f $"($DUMPS)/($n).tmp" $"($DUMPS)/($n)" }',
        'def __st [n] { $env.LAST_EXIT_CODE | into string | save -f $"($DUMPS)/($n).tmp"; ^mv -f $"($DUMPS)/($n).tmp" $"($DUMPS)/($n)" }',
        "def __m [n] { '' | save -f $\"($DUMPS)/($n)\" }",
        o.before ?? '',
        `source '${hook}'`,
        twice ? `source '${hook}'` : '',
      ].join('\n') + '\n';
  }
}

export class TmuxShell {
  readonly socket: string;
  readonly dumps: string;
  readonly rc: string;
  private n = 0;
  private readonly env: Record<string, string>;

  private constructor(readonly o: TmuxShellOptions) {
    const sb = o.sandbox;
    const id = `${process.pid}-${counter++}`;
    this.socket = sb.path(`tmux-${id}`);
    // Through the sandbox: a shell run as the sandbox's user writes its dumps there.
    this.dumps = sb.mkdir(`dumps-${id}`);
    const rcDir = sb.mkdir(`rc-${id}`);
    this.rc = join(rcDir, o.shell === 'zsh' ? '.zshrc' : `rc.${o.shell}`);
    sb.write(this.rc, rcText(o, this.dumps));
    this.env = { ...sb.env, ...(o.env ?? {}), ZDOTDIR: rcDir };
  }

  /** The command line that starts this shell interactively with only the rc above. */
  shellArgv(): string[] {
    switch (this.o.shell) {
      case 'bash': return ['bash', '--noprofile', '--rcfile', this.rc, '-i'];
      case 'zsh': return ['zsh', '-d', '-i'];
      case 'fish': return ['fish', '--no-config', '-i', '-C', `source '${this.rc}'`];
      case 'elvish': return ['elvish', '-rc', this.rc];
      // tcsh takes no rc file argument: the rc is sourced as the first command line.
      case 'tcsh': return ['tcsh', '-f', '-i'];
      case 'nushell': return ['nu', '--config', this.rc, '--env-config', '/dev/null'];
    }
  }

  static async start(o: TmuxShellOptions): Promise<TmuxShell> {
    const t = new TmuxShell(o);
    const argv = [...(o.wrap ?? []), ...t.shellArgv()];
    t.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 't', '-x', '200', '-y', '50', '-c', o.cwd, '--', ...argv]);
    LIVE.add(t);
    // A shell that never reaches its first prompt is the caller's to close only once it
    // has it: closed here, so a failed start leaves nothing running.
    try {
      if (o.shell === 'tcsh') t.type(`source '${t.rc}'`);
      await t.dump();
    } catch (err) {
      t.close();
      throw err;
    }
    return t;
  }

  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-S', this.socket, ...args], { env: this.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Type a line and press Enter. */
  type(line: string): void {
    if (line !== '') this.tmux(['send-keys', '-t', 't', '-l', '--', line]);
    this.tmux(['send-keys', '-t', 't', 'Enter']);
  }

  /**
   * `retype`: nushell's line editor can drop a line typed while a prompt hook runs; the
   * line (a dump or a mark, which can run twice) is typed again every 3 s until it ran.
   */
  private async waitFile(path: string, timeoutMs: number, retype?: string): Promise<Buffer> {
    const end = Date.now() + timeoutMs;
    let again = Date.now() + 3000;
    while (!existsSync(path)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${path}; screen:\n${this.screen()}`);
      if (retype !== undefined && this.o.shell === 'nushell' && Date.now() > again) {
        this.type(retype);
        again = Date.now() + 3000;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return readFileSync(path);
  }

  /** The exported environment as of a new prompt. */
  async dump(timeoutMs = 20_000): Promise<EnvMap> {
    const k = this.n++;
    this.type(`__d ${k}`);
    return parseEnv0(await this.waitFile(join(this.dumps, String(k)), timeoutMs, `__d ${k}`));
  }

  /** Type `line`; once its prompt has run the hook, the exported environment. */
  async run(line: string, timeoutMs?: number): Promise<EnvMap> {
    this.type(line);
    return this.dump(timeoutMs);
  }

  /** Type `line`, then report `$?` as the next command line sees it. */
  async status(line: string): Promise<number> {
    this.type(line);
    const k = this.n++;
    this.type(`__st ${k}`);
    return Number((await this.waitFile(join(this.dumps, String(k)), 20_000)).toString().trim());
  }

  /** Type `__m NAME` (a builtin redirection: starts no process) and wait until it ran. */
  async mark(name: string, timeoutMs = 20_000): Promise<void> {
    this.type(`__m ${name}`);
    await this.waitFile(join(this.dumps, name), timeoutMs, `__m ${name}`);
  }

  /** Everything the pane shows, scrollback included; with `escapes`, colour codes too. */
  screen(escapes = false): string {
    try {
      return this.tmux(['capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-S', '-', '-t', 't']);
    } catch {
      return '';
    }
  }

  /**
   * Stop the tmux server AND everything that ran in its pane. kill-server alone hangs up
   * the pane, which is not enough: strace survives a hangup and keeps its tracee (nu,
   * elvish) alive, and nu then spins on the closed terminal (10% CPU each, for hours).
   * Each pane is its own session (tmux calls setsid), so its processes are found by
   * session id, taken before the server goes, and killed after it.
   */
  close(): void {
    LIVE.delete(this);
    let leaders: number[] = [];
    try {
      leaders = this.tmux(['list-panes', '-a', '-F', '#{pane_pid}']).split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 1);
    } catch { /* the server is gone */ }
    try { this.tmux(['kill-server']); } catch { /* gone */ }
    killSessions(leaders);
  }
}
