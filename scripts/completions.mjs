// `npm run completions`: writes the verb table (src/cli/verbs.ts) into each shell's
// completion file, between its generated-section markers. Run it after changing a verb;
// test/cli-verbs.test.ts fails until the files are current.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { completionTable } from '../dist/cli/completion-table.js';
import { withGeneratedSection } from '../dist/shells/generated.js';
import { allShells } from '../dist/shells/index.js';
import { PACKAGE_ROOT } from '../dist/version.js';

const table = completionTable();
for (const shell of allShells()) {
  // elvish, tcsh and nushell have no completion file yet.
  if (shell.completionFile === null || shell.completionTable === null) continue;
  const file = join(PACKAGE_ROOT, shell.completionFile);
  const before = readFileSync(file, 'utf8');
  const after = withGeneratedSection(before, shell.completionTable(table));
  if (after !== before) {
    writeFileSync(file, after);
    process.stdout.write(`wrote ${shell.completionFile}\n`);
  }
}
