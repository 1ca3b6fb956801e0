/**
 * docs/benchmarks.md: the part between the markers is rewritten by every full run (the
 * machine, the table, the verdicts); the rest of the file (the analysis) is kept as it is.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Row } from './results.js';
import { details, machineText, markdownTable, targetText, targets, type Machine } from './report.js';
import type { ToolName } from './tools.js';

export const BEGIN = '<!-- bench:begin (written by `npm run bench`; edit outside these markers) -->';
export const END = '<!-- bench:end -->';

export function generatedBlock(m: Machine, rows: Row[], missing: Map<ToolName, string>, quick: boolean): string {
  const lines: string[] = [BEGIN, ''];
  if (quick) lines.push('Quick mode: fewer samples than the counts described above.', '');
  lines.push(machineText(m).trimEnd(), '');
  for (const [name, why] of missing) lines.push(`- **${name} missing**: ${why}. Its column is empty; nothing was simulated.`);
  if (missing.size > 0) lines.push('');
  lines.push(markdownTable(rows, missing).trimEnd(), '');
  lines.push('Ratios are envd ÷ the other tool in the same run (1/20 = envd takes a twentieth of the time). "n/a": the tool has no such thing (no daemon).', '');
  lines.push('### Targets', '', targetText(targets(rows)).trimEnd(), '');
  const d = details(rows);
  if (d.length > 0) lines.push('### Details', '', ...d.map((x) => `- ${x}`), '');
  lines.push(END);
  return lines.join('\n') + '\n';
}

const SKELETON = `# Benchmarks

\`npm run bench\` measures envd side by side with direnv and mise on this machine, in one
run, and rewrites the section between the markers below. \`BENCH_QUICK=1 npm run bench\`
takes fewer samples (a few minutes) and prints the table without touching this file.

## Last run
`;

export function writeDoc(path: string, block: string): void {
  let text = existsSync(path) ? readFileSync(path, 'utf8') : SKELETON;
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + END.length + (text[b + END.length] === '\n' ? 1 : 0));
  else text = text.trimEnd() + '\n\n' + block;
  writeFileSync(path, text);
}
