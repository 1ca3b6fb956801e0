import type { CompletionLeaf, CompletionTable, Described } from '../shells/types.js';
import type { ArgKind, ArgsSpec } from './verb-spec.js';
import { VERBS } from './verbs.js';

/**
 * The verb specs as the shells' completion files need them (src/shells/types.ts): every
 * name (aliases as verbs of their own, saying whose alias they are), the second-level
 * verbs, and each leaf's options and argument kinds.
 */

/** A kind as one shell word: `words:a,b`, `file`, `dir`, `command`, `none`. */
function kindWord(k: ArgKind): string {
  return k.kind === 'words' ? `words:${k.words.join(',')}` : k.kind;
}

function leaf(path: string, spec: ArgsSpec): CompletionLeaf {
  return {
    path,
    options: (spec.options ?? []).map((o) => ({ name: o.name, desc: o.desc })),
    valueOptions: (spec.options ?? []).flatMap((o) => (o.value === undefined ? [] : [`${o.name}=${kindWord(o.value)}`])),
    positional: (spec.args ?? []).map(kindWord),
    rest: spec.rest === undefined ? 'none' : kindWord(spec.rest),
  };
}

export function completionTable(): CompletionTable {
  const verbs: Described[] = [];
  const parents: { name: string; subs: Described[] }[] = [];
  const leaves: CompletionLeaf[] = [];
  for (const v of VERBS) {
    const names = [v.name, ...(v.aliases ?? [])];
    for (const name of names) {
      verbs.push({ name, desc: name === v.name ? v.summary : `${v.summary} (alias of ${v.name})` });
      leaves.push(leaf(name, v));
      if (v.subcommands !== undefined) {
        parents.push({ name, subs: v.subcommands.map((s) => ({ name: s.name, desc: s.summary })) });
        for (const s of v.subcommands) leaves.push(leaf(`${name} ${s.name}`, s));
      }
    }
  }
  return { verbs, parents, leaves };
}
