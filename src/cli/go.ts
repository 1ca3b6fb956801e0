import { isDirectory } from '../util/fs.js';
import { isAbsolute, resolve } from 'node:path';
import { tildePath } from '../config/paths.js';
import { GoResolutionError } from '../go/resolve.js';
import { EnvdError } from '../util/errors.js';
import { say, usage } from './command.js';
import { setup } from './go-setup.js';

const HELP = [
  'usage: envd go list [--json]',
  '       envd go which [VERSION] [--dir DIR] [--json]',
  '       envd go install [VERSION] [--dir DIR]',
  '       envd go uninstall VERSION',
  '',
  '  list       Go SDKs installed on this machine (version, GOROOT, where envd found it), newest first',
  '  which      the GOROOT `use go [VERSION]` picks in DIR (default: the current directory), and why',
  '  install    download a Go release from go.dev (or [go] download_url), check its SHA-256 and install',
  '             it under $XDG_DATA_HOME/envd/go; VERSION: 1.22.5, 1.22 (its newest release) or latest;',
  '             without VERSION, what DIR pins. Prints the GOROOT',
  '  uninstall  remove a Go that envd installed',
].join('\n');


function runList(args: string[]): number {
  let json = false;
  for (const a of args) {
    if (a === '--json') json = true;
    else return usage(`go list: unexpected argument '${a}'. Usage: envd go list [--json]`);
  }
  const { provider, home } = setup();
  const sdks = provider.list();
  if (json) {
    process.stdout.write(JSON.stringify(sdks.map((s) => ({ version: s.version, path: s.root, source: s.source })), null, 2) + '\n');
    return 0;
  }
  if (sdks.length === 0) {
    say('envd: no Go SDKs found. Install one (https://go.dev/dl/ or your version manager) or name its directory in [go] sdk_dirs.');
    return 0;
  }
  const width = Math.max(...sdks.map((s) => s.version.length));
  const pathWidth = Math.max(...sdks.map((s) => tildePath(s.root, home).length));
  for (const s of sdks) {
    process.stdout.write(`${s.version.padEnd(width)}  ${tildePath(s.root, home).padEnd(pathWidth)}  ${s.source}\n`);
  }
  return 0;
}

function runWhich(args: string[]): number {
  let json = false;
  let dir: string | undefined;
  let version: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--json') json = true;
    else if (a === '--dir' || a === '-C') {
      const v = args[++i];
      if (v === undefined) return usage(`go which: ${a} needs a directory`);
      dir = v;
    } else if (a.startsWith('--dir=')) dir = a.slice('--dir='.length);
    else if (a.startsWith('-') && a !== '-') return usage(`go which: unknown option '${a}'. Usage: envd go which [VERSION] [--dir DIR] [--json]`);
    else if (version === undefined) version = a;
    else return usage(`go which: one version at most, got '${version}' and '${a}'`);
  }
  const cwd = process.cwd();
  const where = dir === undefined ? cwd : isAbsolute(dir) ? dir : resolve(cwd, dir);
  if (!isDirectory(where)) return usage(`go which: ${where} is not a directory`);
  const { provider } = setup();
  try {
    const r = provider.resolve(where, version);
    if (json) {
      process.stdout.write(JSON.stringify({
        goroot: r.sdk.root,
        version: r.sdk.version,
        source: r.sdk.source,
        wanted: r.wanted,
        reason: r.reason,
        consulted: r.consulted,
        warnings: r.warnings ?? [],
      }, null, 2) + '\n');
    } else {
      process.stdout.write(r.sdk.root + '\n');
      say(`envd: go ${r.sdk.version} (${r.sdk.source}); wanted: ${r.wanted} (${r.reason})`);
    }
    for (const w of r.warnings ?? []) say(`envd: warning: ${w}`);
    return 0;
  } catch (err) {
    if (!(err instanceof EnvdError)) throw err;
    if (json) {
      const consulted = err instanceof GoResolutionError ? err.consulted : [];
      process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message }, consulted }, null, 2) + '\n');
    }
    say(`envd: ${err.message}`);
    return err.code === 'USAGE' ? 2 : 1;
  }
}

/** `envd go list`, `which`, `install` and `uninstall` (the last two in go-install.ts). */
export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list':
    case 'ls':
      return runList(rest);
    case 'which':
      return runWhich(rest);
    case 'install':
      return (await import('./go-install.js')).runInstall(rest);
    case 'uninstall':
    case 'remove':
      return (await import('./go-install.js')).runUninstall(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP + '\n');
      return sub === undefined ? 2 : 0;
    default:
      return usage(`go: unknown subcommand '${sub}'. Try 'envd go list', 'envd go which' or 'envd go install'.`);
  }
}
