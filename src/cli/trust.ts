import { say } from './command.js';
import { logicalCwd } from './env.js';
import { openService } from './service.js';

/** `envd allow [PATH]` (permit, grant): approve the env file's exact content. */
export async function runAllow(args: string[]): Promise<number> {
  const service = await openService();
  try {
    const r = await service.allow(args[0] ?? '', logicalCwd());
    if (r.message !== '') say(r.message);
    return 0;
  } finally {
    await service.close();
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
