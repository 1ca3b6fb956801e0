import { tildePath, resolvePaths } from '../config/paths.js';
import { logicalCwd, processEnv } from './env.js';
import { openService } from './service.js';

/** `envd status [--json]`: what is loaded, what applies here, whether it is allowed and why not. */
export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const service = await openService();
  let info;
  try {
    info = await service.status({ cwd: logicalCwd(), env: processEnv() });
  } finally {
    await service.close();
  }
  if (json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return 0;
  }
  const home = resolvePaths().home;
  const t = (p: string | null): string => (p === null ? '(none)' : tildePath(p, home));
  const lines = [
    `found:    ${t(info.found)}${info.foundKind === 'dotenv' ? ' (.env)' : ''}`,
    `trust:    ${info.trust} — ${info.trustDetail}`,
    `loaded:   ${t(info.loadedFile)}${info.loadedDir === null && info.loadedFile !== null ? ' (not applied: blocked or failed)' : ''}`,
    `changed:  ${info.changed.length > 0 ? info.changed.join(' ') : '(nothing)'}`,
    `daemon:   ${info.daemon.running ? `running, pid ${info.daemon.pid ?? '?'}, version ${info.daemon.version ?? '?'}` : 'not running (in-process)'}`,
    `config:   ${info.configFiles.length > 0 ? info.configFiles.map(t).join(', ') : '(defaults)'}`,
    ...info.configWarnings,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
