import { isAbsolute, resolve } from 'node:path';
import { tildePath } from '../config/paths.js';
import { installGo, uninstallGo } from '../go/install/install.js';
import { terminalProgress, type ProgressBar } from '../go/install/progress.js';
import { describeWant, GoResolutionError, parseWant, type GoWant } from '../go/resolve.js';
import { formatGoVersion, parseGoVersion } from '../go/version.js';
import { isDirectory } from '../util/fs.js';
import { EnvdError } from '../util/errors.js';
import { say, usage } from './command.js';
import { setup } from './go-setup.js';

const INSTALL_USAGE = 'Usage: envd go install [VERSION] [--dir DIR]';

/** `envd go install [VERSION] [--dir DIR]`: stdout is the GOROOT, everything else stderr. */
export async function runInstall(args: string[]): Promise<number> {
  let dir: string | undefined;
  let version: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--dir' || a === '-C') {
      const v = args[++i];
      if (v === undefined) return usage(`go install: ${a} needs a directory`);
      dir = v;
    } else if (a.startsWith('--dir=')) dir = a.slice('--dir='.length);
    else if (a.startsWith('-')) return usage(`go install: unknown option '${a}'. ${INSTALL_USAGE}`);
    else if (version === undefined) version = a;
    else return usage(`go install: one version at most, got '${version}' and '${a}'`);
  }
  const where = dir === undefined ? process.cwd() : isAbsolute(dir) ? dir : resolve(process.cwd(), dir);
  if (!isDirectory(where)) return usage(`go install: ${where} is not a directory`);
  const { provider, home, paths, config } = setup();

  let wants: GoWant[];
  if (version !== undefined) {
    const w = parseWant(version);
    if (w === null) return usage(`go install: '${version}' is not a Go version (expected e.g. 1.22.5, 1.22, go1.22.5 or latest)`);
    wants = [w];
  } else {
    // What `use go` would pick here; when that is installed there is nothing to do.
    try {
      const r = provider.resolve(where);
      say(`envd: go ${r.sdk.version} (${r.sdk.source}) is installed and meets ${r.wanted} (${r.reason}); nothing to install`);
      process.stdout.write(r.sdk.root + '\n');
      return 0;
    } catch (err) {
      if (!(err instanceof GoResolutionError) || err.code !== 'GO_NOT_INSTALLED') {
        if (err instanceof EnvdError) {
          say(`envd: ${err.message}`);
          return 1;
        }
        throw err;
      }
      wants = err.wants;
      say(`envd: ${where === process.cwd() ? 'this directory' : tildePath(where, home)} wants go ${err.wants.map(describeWant).join(' or ')} (${err.reason})`);
    }
  }

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let bar: ProgressBar | null = null;
  try {
    const outcome = await installGo({
      wants,
      dataDir: paths.dataDir,
      downloadUrl: config.go.downloadUrl,
      env: process.env,
      installed: provider.list(),
      signal: controller.signal,
      onStart: async (v, size) => {
        bar = await terminalProgress(`downloading go${v}`, size);
        return bar ?? undefined;
      },
      onStep: () => {
        bar?.stop();
        bar = null;
      },
    });
    if (outcome.fresh) say(`envd: installed go ${outcome.version} in ${tildePath(outcome.root, home)}`);
    else say(`envd: go ${outcome.version} is already installed in ${tildePath(outcome.root, home)}`);
    process.stdout.write(outcome.root + '\n');
    return 0;
  } catch (err) {
    (bar as ProgressBar | null)?.stop();
    if (controller.signal.aborted) {
      say('envd: go install: interrupted; nothing was installed');
      return 130;
    }
    if (err instanceof EnvdError) {
      say(`envd: go install: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `envd go uninstall VERSION`: only SDKs envd installed; others name their installer. */
export async function runUninstall(args: string[]): Promise<number> {
  const [arg, ...extra] = args;
  if (arg === undefined || arg.startsWith('-') || extra.length > 0) return usage('go uninstall: Usage: envd go uninstall VERSION (an exact version, e.g. 1.22.5)');
  const v = parseGoVersion(arg);
  if (v === null) return usage(`go uninstall: '${arg}' is not a Go version (expected e.g. 1.22.5 or go1.22.5)`);
  const version = formatGoVersion(v);
  const { provider, home, paths } = setup();
  let removed;
  try {
    removed = await uninstallGo(paths.dataDir, version);
  } catch (err) {
    say(`envd: go uninstall: cannot remove go ${version}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  if (removed !== null) {
    say(`envd: removed go ${removed.version} (${tildePath(removed.root, home)})`);
    return 0;
  }
  const elsewhere = provider.list().filter((s) => s.version === version);
  if (elsewhere.length > 0) {
    const where = elsewhere.map((s) => `${tildePath(s.root, home)} (${s.source})`).join(', ');
    say(`envd: go ${version} was not installed by envd: ${where}; remove it with the tool that installed it`);
  } else {
    say(`envd: go ${version} is not installed by envd; 'envd go list' shows what is installed`);
  }
  return 1;
}


