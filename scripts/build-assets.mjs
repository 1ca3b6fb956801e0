// After tsc: the files bin/envd's front door prints without starting Node. The completion
// scripts are generated from one table (src/cli/completion.ts); written here once per build.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { completionScript } = await import(join(root, 'dist', 'cli', 'completion.js'));
const out = join(root, 'dist', 'completion');
mkdirSync(out, { recursive: true });
for (const shell of ['bash', 'zsh', 'fish']) writeFileSync(join(out, shell), completionScript(shell));
