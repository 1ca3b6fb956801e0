import { dirname } from 'node:path';
import { tildePath, resolvePaths } from '../config/paths.js';
import { loadConfig } from '../config/config.js';
import { readShellState, watchViews } from '../engine/shell-state.js';
import { recordDirOf } from '../engine/state-records.js';
import type { StatusInfo } from '../engine/service-types.js';
import { logicalCwd, processEnv } from './env.js';
import { actingAsDirenv } from './persona.js';
import { openService } from './service.js';

/**
 * `envd status [--json]`: what is loaded, what applies here, whether it is allowed and why
 * not. Through the direnv shim, direnv's own formats instead (status-direnv.ts).
 */
export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json') || args.includes('-json');
  const env = processEnv();
  const envdPaths = resolvePaths(process.env);
  const state = readShellState(env, { allowlistFile: envdPaths.allowlistFile, recordDir: recordDirOf(envdPaths) });
  const loadedFile = state.file ?? env.DIRENV_FILE ?? null;
  const service = await openService();
  let info: StatusInfo;
  let loadedInfo: StatusInfo | null = null;
  try {
    info = await service.status({ cwd: logicalCwd(), env });
    // direnv reports whether the loaded file is allowed too; it may be another directory's.
    if (actingAsDirenv() && loadedFile !== null) {
      loadedInfo = loadedFile === info.found ? info : await service.status({ cwd: dirname(loadedFile), env });
    }
  } finally {
    await service.close();
  }
  const paths = resolvePaths();
  if (actingAsDirenv()) {
    const d = await import('./status-direnv.js');
    const loaded = loadedFile === null ? null
      : { path: loadedFile, trust: loadedInfo?.found === loadedFile ? loadedInfo.trust : 'none', watches: d.loadedWatches(watchViews(state).map((w) => ({ p: w.path, m: w.mtimeMs, s: 0 }))) };
    const found = info.found === null ? null : { path: info.found, trust: info.trust, watches: d.foundWatches(info.found, paths) };
    if (json) process.stdout.write(d.direnvStatusJson(loaded, found, paths));
    else process.stdout.write(d.direnvStatusText(info, loaded, found, loadConfig(paths).config, paths));
    return 0;
  }
  if (json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return 0;
  }
  const t = (p: string | null): string => (p === null ? '(none)' : tildePath(p, paths.home));
  // The shell's state says whether its file was applied, and if not, why.
  // A blocked or failed file is recorded with its directory too (as direnv does).
  const applied = info.loadedDir !== null && state.status !== 'blocked' && state.status !== 'failed';
  const loadedLine = info.loadedFile === null ? '(none)'
    : applied ? t(info.loadedFile)
      : `(nothing applied) ${t(info.loadedFile)} ${state.status === 'failed' ? 'failed' : state.status === 'blocked' ? 'is blocked' : 'was not applied'}`;
  const lines = [
    `found:    ${t(info.found)}${info.foundKind === 'dotenv' ? ' (.env)' : ''}`,
    `trust:    ${info.trust} — ${info.trustDetail}`,
    `loaded:   ${loadedLine}`,
    `changed:  ${info.changed.length > 0 ? info.changed.join(' ') : '(nothing)'}`,
    `daemon:   ${info.daemon.running ? `running, pid ${info.daemon.pid ?? '?'}, version ${info.daemon.version ?? '?'}` : 'not running (in-process)'}`,
    `config:   ${info.configFiles.length > 0 ? info.configFiles.map(t).join(', ') : '(defaults)'}`,
    ...info.configWarnings,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
