/**
 * One isolated user per tool: its own HOME, XDG directories and runtime directory (0700)
 * under one short temp path (socket paths must stay under 108 bytes), a PATH with the
 * system's directories only, and nothing inherited from the developer's envd, direnv or
 * mise state.
 */
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Go on PATH outside every project: entering a pinned project is a real switch. */
export const OUTSIDE_GO = '/usr/lib/go-1.21/bin';
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export class Sandbox {
  readonly root: string;
  readonly home: string;
  readonly run: string;
  readonly env: Record<string, string>;
  private seq = 0;

  constructor(tag: string, extraPath: string[] = []) {
    this.root = realpathSync(mkdtempSync(join(tmpdir(), `eb-${tag}-`)));
    this.home = join(this.root, 'h');
    this.run = join(this.root, 'r');
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    mkdirSync(this.run, { recursive: true, mode: 0o700 });
    chmodSync(this.run, 0o700);
    mkdirSync(join(this.root, 'out'), { recursive: true });
    const nodeDir = dirname(process.execPath);
    const path = [...extraPath, OUTSIDE_GO, ...SYSTEM_PATH];
    if (!path.includes(nodeDir)) path.push(nodeDir);
    this.env = {
      PATH: path.join(':'),
      HOME: this.home,
      USER: process.env.USER ?? 'root',
      LOGNAME: process.env.USER ?? 'root',
      LC_ALL: 'C.UTF-8',
      LANG: 'C.UTF-8',
      TERM: 'dumb',
      TMPDIR: tmpdir(),
      XDG_CONFIG_HOME: join(this.home, '.config'),
      XDG_DATA_HOME: join(this.home, '.local', 'share'),
      XDG_STATE_HOME: join(this.home, '.local', 'state'),
      XDG_CACHE_HOME: join(this.home, '.cache'),
      XDG_RUNTIME_DIR: this.run,
    };
    // ENVD_WARM_EVAL=0 npm run bench: measure evaluations without the warm evaluator.
    const warm = process.env.ENVD_WARM_EVAL;
    if (warm !== undefined) this.env.ENVD_WARM_EVAL = warm;
  }

  /** A directory outside every project. */
  get outside(): string {
    return join(this.root, 'out');
  }

  /** A new, empty project directory (names never repeat, so cold means cold). */
  newProject(kind: string): string {
    const dir = join(this.root, 'p', `${kind}${this.seq++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  write(path: string, content: string, mode?: number): string {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, mode === undefined ? undefined : { mode });
    return path;
  }

  /** Where a compiled script goes. */
  scriptPath(name: string): string {
    const dir = join(this.root, 'scripts');
    mkdirSync(dir, { recursive: true });
    return join(dir, name);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
