/**
 * The three tools side by side: how each is found, how its hook is installed (as its own
 * documentation says), how a project is written for it, and how a project is trusted.
 * A tool that is not installed is reported as missing with the reason, never simulated.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonClient } from './daemon-client.js';
import { isMoreShell, moreRcFile } from './more-shells.js';
import type { Shell } from './plan.js';
import { Sandbox } from './sandbox.js';
import { quoteBash, quoteFish } from '../env/quote.js';

import type { ToolName } from './tool-names.js';

export { TOOLS, type ToolName } from './tool-names.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a benchmark project exports. Every tool gets the equivalent file. */
export interface ProjectSpec {
  vars: Record<string, string>;
  /** Files next to the env file that it sources, each exporting one variable. */
  sourced?: Array<{ file: string; name: string; value: string }>;
  /** Seconds the env file spends before exporting (a slow `.envrc`). */
  sleep?: number;
  /** Pin this Go SDK (`use go 1.22` for envd; the explicit equivalent for the others). */
  go?: { version: string; root: string };
}

export interface ToolInfo {
  name: ToolName;
  /** Path of the binary, or null when missing. */
  bin: string | null;
  version: string | null;
  /** Why it is missing (null when present). */
  missing: string | null;
}


function tomlString(s: string): string {
  return JSON.stringify(s);
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${quoteBash(cmd)}`], { encoding: 'utf8' });
  const out = r.stdout.trim();
  return r.status === 0 && out !== '' ? out : null;
}

function firstLine(argv: string[], env?: Record<string, string>): string | null {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return null;
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, timeout: 20_000 });
  if (r.status !== 0) return null;
  return (r.stdout + r.stderr).trim().split('\n')[0] ?? null;
}

function must(argv: string[], opts: { cwd?: string; env: Record<string, string> }): void {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return;
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: opts.env, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim()}`);
}

/** The `.envrc` for a spec, as a direnv user would write it (envd reads the same file). */
function envrc(spec: ProjectSpec, goLine: (go: NonNullable<ProjectSpec['go']>) => string[]): string {
  const lines: string[] = [];
  if (spec.sleep !== undefined) lines.push(`sleep ${spec.sleep}`);
  for (const s of spec.sourced ?? []) lines.push(`source_env ./${s.file}`);
  if (spec.go !== undefined) lines.push(...goLine(spec.go));
  for (const [k, v] of Object.entries(spec.vars)) lines.push(`export ${k}=${quoteBash(v)}`);
  return lines.join('\n') + '\n';
}

function writeSourced(box: Sandbox, dir: string, spec: ProjectSpec): void {
  for (const s of spec.sourced ?? []) box.write(join(dir, s.file), `export ${s.name}=${quoteBash(s.value)}\n`);
}

export abstract class Tool {
  abstract readonly info: ToolInfo;
  get name(): ToolName {
    return this.info.name;
  }
  get present(): boolean {
    return this.info.bin !== null;
  }
  protected get bin(): string {
    if (this.info.bin === null) throw new Error(`${this.info.name} is missing`);
    return this.info.bin;
  }
  /** The line the tool's documentation says to put in the shell's rc file. */
  abstract hookLine(shell: Shell): string;
  /** Directories to put first on the sandbox's PATH. */
  pathDirs(): string[] {
    return [];
  }
  /** Extra variables for the sandbox. */
  extraEnv(): Record<string, string> {
    return {};
  }
  /** Once per sandbox, before anything runs in it. */
  async prepare(_box: Sandbox): Promise<void> {}
  /** Once per sandbox, at the end. */
  async teardown(_box: Sandbox): Promise<void> {}
  abstract writeProject(box: Sandbox, dir: string, spec: ProjectSpec): void;
  /** Approve these projects the way a user would. */
  abstract trust(box: Sandbox, dirs: string[]): Promise<void>;

  /**
   * The rc file, written once: rewriting it while a shell started earlier is reading it
   * would hand that shell an empty file.
   */
  rcFile(box: Sandbox, shell: Shell): string {
    if (isMoreShell(shell)) return moreRcFile(this.name, this.bin, box, shell);
    const name = shell === 'bash' ? '.bashrc' : shell === 'zsh' ? '.zshrc' : '.config/fish/config.fish';
    const path = join(box.home, name);
    const text = this.hookLine(shell) + '\n';
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) box.write(path, text);
    return path;
  }
}

export class EnvdTool extends Tool {
  readonly info: ToolInfo;

  constructor() {
    super();
    const bin = join(ROOT, 'bin', 'envd');
    const built = existsSync(join(ROOT, 'dist', 'cli', 'main.js'));
    let version: string | null = null;
    if (built) {
      version = firstLine([bin, 'version']);
      const rev = firstLine(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD']);
      if (version !== null && rev !== null) version = `${version.replace(/^envd\s+/, '')} (${rev})`;
    }
    this.info = { name: 'envd', bin: built ? bin : null, version, missing: built ? null : 'not built (npm run build)' };
  }

  hookLine(shell: Shell): string {
    return shell === 'fish' ? `${quoteFish(this.bin)} hook fish | source` : `eval "$(${quoteBash(this.bin)} hook ${shell})"`;
  }

  socket(box: Sandbox): string {
    return join(box.run, 'envd', 'daemon.sock');
  }

  override async prepare(box: Sandbox): Promise<void> {
    must([this.bin, 'daemon', 'start'], { env: box.env });
  }

  override async teardown(box: Sandbox): Promise<void> {
    spawnSync(this.bin, ['daemon', 'stop'], { env: box.env, timeout: 20_000 });
  }

  writeProject(box: Sandbox, dir: string, spec: ProjectSpec): void {
    writeSourced(box, dir, spec);
    box.write(join(dir, '.envrc'), envrc(spec, (go) => [`use go ${go.version}`]));
  }

  /** `envd allow` for each file, sent to the daemon directly (the same request the CLI sends). */
  async trust(box: Sandbox, dirs: string[]): Promise<void> {
    const client = await DaemonClient.open(this.socket(box));
    try {
      await client.hello(box.env);
      for (const d of dirs) await client.allow(join(d, '.envrc'), d);
    } finally {
      client.close();
    }
  }

  async daemonPid(box: Sandbox): Promise<number> {
    const client = await DaemonClient.open(this.socket(box));
    try {
      return await client.hello(box.env);
    } finally {
      client.close();
    }
  }

  /** Hook requests the daemon has answered from kept replies (hook-replay.ts) since it started. */
  async replayed(box: Sandbox): Promise<number> {
    return (await this.helloInfo(box)).replayed;
  }

  /** What the daemon's hello reports that the bench reads (see DaemonClient.helloInfo). */
  async helloInfo(box: Sandbox): ReturnType<DaemonClient['helloInfo']> {
    const client = await DaemonClient.open(this.socket(box));
    try {
      return await client.helloInfo(box.env);
    } finally {
      client.close();
    }
  }
}

export class DirenvTool extends Tool {
  readonly info: ToolInfo;

  constructor() {
    super();
    const bin = which('direnv');
    const version = bin === null ? null : firstLine([bin, 'version']);
    this.info = { name: 'direnv', bin, version, missing: bin === null ? 'direnv is not on PATH (apt-get install direnv)' : null };
  }

  hookLine(shell: Shell): string {
    return shell === 'fish' ? 'direnv hook fish | source' : `eval "$(direnv hook ${shell})"`;
  }

  override pathDirs(): string[] {
    return [dirname(this.bin)];
  }

  writeProject(box: Sandbox, dir: string, spec: ProjectSpec): void {
    writeSourced(box, dir, spec);
    box.write(join(dir, '.envrc'), envrc(spec, (go) => [`export GOROOT=${quoteBash(go.root)}`, 'PATH_add "$GOROOT/bin"']));
  }

  async trust(box: Sandbox, dirs: string[]): Promise<void> {
    for (const d of dirs) must([this.bin, 'allow', d], { cwd: d, env: box.env });
  }
}

/** Where the bench installs mise from the npm registry when none is on PATH. */
export const MISE_PREFIX = join(tmpdir(), 'envd-bench-mise');
const MISE_PACKAGE = '@jdxcode/mise-linux-x64';

function findOrInstallMise(install: boolean): { bin: string | null; missing: string | null } {
  const onPath = which('mise');
  if (onPath !== null) return { bin: onPath, missing: null };
  const local = join(MISE_PREFIX, 'node_modules', ...MISE_PACKAGE.split('/'), 'bin', 'mise');
  if (existsSync(local)) return { bin: local, missing: null };
  if (process.platform !== 'linux' || process.arch !== 'x64') return { bin: null, missing: `not on PATH; ${MISE_PACKAGE} is for linux-x64 only` };
  if (!install) return { bin: null, missing: `not on PATH (installing ${MISE_PACKAGE} was turned off)` };
  process.stderr.write(`bench: mise is not on PATH; installing ${MISE_PACKAGE} into ${MISE_PREFIX}\n`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', MISE_PREFIX, MISE_PACKAGE], { encoding: 'utf8', timeout: 180_000 });
  if (r.status === 0 && existsSync(local)) return { bin: local, missing: null };
  const why = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-1)[0] ?? '';
  return { bin: null, missing: `not on PATH, and npm install ${MISE_PACKAGE} failed: ${why}` };
}

export class MiseTool extends Tool {
  readonly info: ToolInfo;
  /** The Go SDK linked into mise (`mise link`), so `[tools] go` needs no download. */
  private linkedGo: string | null = null;

  constructor(install: boolean) {
    super();
    const found = findOrInstallMise(install);
    const version = found.bin === null ? null : firstLine([found.bin, '--version']);
    this.info = { name: 'mise', bin: found.bin, version, missing: found.missing };
  }

  hookLine(shell: Shell): string {
    return shell === 'fish' ? 'mise activate fish | source' : `eval "$(mise activate ${shell})"`;
  }

  override pathDirs(): string[] {
    return [dirname(this.bin)];
  }

  /** No network here: mise must not try to reach it (it would only wait for timeouts). */
  override extraEnv(): Record<string, string> {
    return { MISE_OFFLINE: '1' };
  }

  /**
   * Link the local Go 1.22 SDK into mise's installs (`mise link go@VERSION DIR`, mise's
   * documented way to use a toolchain it did not install), so `[tools] go = "1.22"`
   * resolves with no download.
   */
  linkGo(box: Sandbox, root: string): string | null {
    let version: string;
    try {
      version = (readFileSync(join(root, 'VERSION'), 'utf8').split('\n')[0] ?? '').replace(/^go/, '').trim();
    } catch {
      return null;
    }
    const r = spawnSync(this.bin, ['link', '--force', `go@${version}`, root], { encoding: 'utf8', env: box.env, timeout: 30_000 });
    this.linkedGo = r.status === 0 ? version : null;
    return this.linkedGo;
  }

  writeProject(box: Sandbox, dir: string, spec: ProjectSpec): void {
    const env: string[] = [];
    const sources = (spec.sourced ?? []).map((s) => `./${s.file}`);
    writeSourced(box, dir, spec);
    if (spec.sleep !== undefined) {
      box.write(join(dir, 'slow.sh'), `sleep ${spec.sleep}\n`);
      sources.unshift('./slow.sh');
    }
    for (const [k, v] of Object.entries(spec.vars)) env.push(`${k} = ${tomlString(v)}`);
    if (sources.length > 0) env.push(`_.source = [${sources.map(tomlString).join(', ')}]`);
    const out: string[] = [];
    if (spec.go !== undefined) out.push('[tools]', `go = ${tomlString(spec.go.version)}`, '');
    if (env.length > 0) out.push('[env]', ...env, '');
    box.write(join(dir, 'mise.toml'), out.join('\n'));
  }

  async trust(box: Sandbox, dirs: string[]): Promise<void> {
    for (const d of dirs) must([this.bin, 'trust', '--quiet', join(d, 'mise.toml')], { cwd: d, env: box.env });
  }
}

/** A fresh sandbox set up for one tool. */
export async function toolSandbox(tool: Tool, tag: string): Promise<Sandbox> {
  const box = new Sandbox(tag, tool.pathDirs());
  Object.assign(box.env, tool.extraEnv());
  await tool.prepare(box);
  return box;
}
