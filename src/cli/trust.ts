import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { say } from './command.js';
import { logicalCwd } from './env.js';
import { openService } from './service.js';
import type { TrustChange } from '../engine/service-types.js';

/**
 * `envd allow [PATH]` (permit, grant): approve the env file's exact content. When this
 * shell has that file loaded and it stopped at require_allowed (DIRENV_REQUIRED, as in
 * direnv 2.37), the files it requires are approved too, each with its present content.
 */
export async function runAllow(args: string[]): Promise<number> {
  const service = await openService();
  try {
    return await allowWithRequired(service, args[0] ?? '', logicalCwd());
  } finally {
    await service.close();
  }
}

/** `envd allow`'s work with any trust backend: the daemon, the engine, or the trust module itself (`envd edit`). */
export async function allowWithRequired(trust: { allow(path: string, cwd: string): Promise<TrustChange> }, path: string, cwd: string): Promise<number> {
  const r = await trust.allow(path, cwd);
  if (r.message !== '') say(r.message);
  const required = (process.env.DIRENV_REQUIRED ?? '').split(':').filter((p) => p !== '');
  if (required.length > 0 && loadedHere(r.file)) {
    for (const rel of required) {
      const abs = join(dirname(r.file), rel);
      if (isAbsolute(rel) || rel.includes('..') || !existsSync(abs)) {
        say(`envd: required file does not exist: ${rel}`);
        return 1;
      }
      await trust.allow(abs, cwd);
      say(`envd: allowing ${rel}`);
    }
  }
  return 0;
}

/** Whether this shell's loaded env file (DIRENV_FILE, else an old release's ENVD_FILE) is FILE (a real path). */
function loadedHere(file: string): boolean {
  const loaded = process.env.DIRENV_FILE ?? process.env.ENVD_FILE;
  if (loaded === undefined || loaded === '') return false;
  try {
    return realpathSync(loaded) === file;
  } catch {
    return false;
  }
}

/** `envd deny [PATH]` (block, revoke, disallow): remember a deny; it wins over approvals. */
export async function runDeny(args: string[]): Promise<number> {
  const service = await openService();
  try {
    const r = await service.deny(args[0] ?? '', logicalCwd());
    if (r.message !== '') say(r.message);
    return 0;
  } finally {
    await service.close();
  }
}

/** `envd prune`: drop approvals of files that are gone or changed. */
export async function runPrune(_args: string[]): Promise<number> {
  const service = await openService();
  try {
    const n = await service.prune();
    say(`envd: pruned ${n} approval${n === 1 ? '' : 's'}`);
    return 0;
  } finally {
    await service.close();
  }
}
