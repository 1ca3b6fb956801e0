import type { EnvOp } from './types.js';


/**
 * bash and zsh render alike: `{ export NAME=WORD; unset -v 'NAME'; }`.
 * `unset -v`: plain `unset` in bash removes a FUNCTION of that name when no variable has
 * it. The name is quoted because a bare word could be a zsh global alias (oh-my-zsh
 * defines `L`, `G`, `H`, `NUL`…: `unset -v L` would become `unset -v | less`). In
 * `NAME=…` the word is never a bare name, so no alias can match it.
 */
export function renderPosix(ops: readonly EnvOp[], quote: (v: string) => string): string {
  const stmts = ops.map((op) => (op.kind === 'set' ? `export ${op.name}=${quote(op.value)};` : `unset -v '${op.name}';`));
  return `{ ${stmts.join(' ')} }`;
}

/** The value of an environment variable when it is set and not empty. */
export function nonEmpty(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = env[name];
  return v !== undefined && v !== '' ? v : undefined;
}
