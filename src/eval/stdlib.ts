import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../version.js';

export const STDLIB_DIR = join(PACKAGE_ROOT, 'stdlib');

let cached: string | undefined;

/** The bash stdlib: every `stdlib/*.sh`, in name order (read once per process). */
export function stdlibText(): string {
  if (cached === undefined) {
    const files = readdirSync(STDLIB_DIR).filter((f) => f.endsWith('.sh')).sort();
    cached = files.map((f) => `# --- ${f}\n${readFileSync(join(STDLIB_DIR, f), 'utf8')}`).join('\n');
  }
  return cached;
}
