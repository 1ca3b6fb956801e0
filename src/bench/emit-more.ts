/**
 * Plans (src/bench/plan.ts) as elvish, tcsh and nushell scripts: the steps the prompt rows
 * use (cd, prompt, expect, time, repeat, promptUntil, report, run). The others (capture,
 * barriers) are bash/zsh/fish-only and throw here.
 *
 * The clock is the shell's own where it has one: elvish `time &on-end` (a builtin), nushell
 * `date now` (a builtin). tcsh has no clock that starts no process, so a sample is taken
 * between two `date +%s%6N` substitutions: each sample includes about one process start,
 * which the `zero` samples (an empty timed body) measure and the idle row subtracts.
 *
 * The prompt is what the shell runs before drawing one: elvish the rc module's `prompt`
 * (the hook, src/bench/more-shells.ts), tcsh the `precmd` alias, nushell every
 * `hooks.pre_prompt` closure with `do --env`.
 */
import type { Step } from './plan.js';

const LABEL = /^[A-Za-z0-9_.:-]+$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Words the scripts quote: paths, values and messages of the benchmark's own making. */
const PLAIN = /^[^'\n!\\]*$/;

export type MoreShell = 'elvish' | 'tcsh' | 'nushell';

function label(s: string): string {
  if (!LABEL.test(s)) throw new Error(`bench: bad label ${JSON.stringify(s)}`);
  return s;
}

function name(s: string): string {
  if (!NAME.test(s)) throw new Error(`bench: bad variable name ${JSON.stringify(s)}`);
  return s;
}

/** One single-quoted word in all three shells (elvish, tcsh and nushell agree on these). */
function q(s: string): string {
  if (!PLAIN.test(s)) throw new Error(`bench: cannot quote ${JSON.stringify(s)} for this shell`);
  return `'${s}'`;
}

function unsupported(shell: MoreShell, k: string): never {
  throw new Error(`bench: step '${k}' is not available in ${shell} (prompt rows only)`);
}

function emitElvish(steps: Step[]): string {
  let v = 0;
  const lines = ['use benchrc', "fn bf {|w d| echo '@F' $w $d }"];
  const emit = (list: Step[], pad: string): void => {
    for (const s of list) {
      switch (s.k) {
        case 'cd': lines.push(`${pad}cd ${q(s.dir)}`); break;
        case 'prompt': lines.push(`${pad}benchrc:prompt`); break;
        case 'expect': {
          const n = name(s.name);
          lines.push(s.value === null
            ? `${pad}if (has-env ${n}) { bf ${q(s.what)} ${n}=(get-env ${n}) }`
            : `${pad}if (or (not (has-env ${n})) (!=s (get-env ${n}) ${q(s.value)})) { bf ${q(s.what)} ${n}=(if (has-env ${n}) { get-env ${n} } else { put '<unset>' }) }`);
          break;
        }
        case 'time':
          lines.push(`${pad}time &on-end={|d| echo '@S ${label(s.label)}' (* $d 1000000) } {`);
          emit(s.body, `${pad}  `);
          lines.push(`${pad}}`);
          break;
        case 'repeat':
          lines.push(`${pad}for _ [(range ${s.n})] {`);
          emit(s.body, `${pad}  `);
          lines.push(`${pad}}`);
          break;
        case 'promptUntil': {
          const n = name(s.name);
          const i = `__i${v++}`;
          const waiting = s.value === null ? `(has-env ${n})` : `(or (not (has-env ${n})) (!=s (get-env ${n}) ${q(s.value)}))`;
          lines.push(`${pad}var ${i} = 0`, `${pad}while (and ${waiting} (< $${i} ${s.tries})) { set ${i} = (+ $${i} 1); sleep ${s.sleep}; benchrc:prompt }`);
          break;
        }
        case 'report': lines.push(`${pad}echo ${q(`@V ${s.text}`)}`); break;
        case 'run': lines.push(`${pad}try { e:${s.argv.map(q).join(' ')} > /dev/null 2> /dev/null } catch { }`); break;
        default: unsupported('elvish', s.k);
      }
    }
  };
  emit(steps, '');
  return lines.join('\n') + '\n';
}

function emitTcsh(steps: Step[]): string {
  let v = 0;
  const lines: string[] = [];
  /** NAME holds VALUE (null: unset); `then` runs when it does NOT. */
  const unless = (pad: string, n: string, value: string | null, then: string): void => {
    if (value === null) {
      lines.push(`${pad}if ( $?${n} ) ${then}`);
    } else {
      lines.push(`${pad}if ( $?${n} ) then`, `${pad}  if ( "$${n}" != ${q(value)} ) ${then}`, `${pad}else`, `${pad}  ${then}`, `${pad}endif`);
    }
  };
  const emit = (list: Step[], pad: string): void => {
    for (const s of list) {
      switch (s.k) {
        case 'cd': lines.push(`${pad}cd ${q(s.dir)}`); break;
        case 'prompt': lines.push(`${pad}precmd`); break;
        case 'expect': {
          const n = name(s.name);
          unless(pad, n, s.value, `echo '@F' ${q(s.what)} ${n}`);
          break;
        }
        case 'time':
          lines.push(`${pad}set __t0 = \`date +%s%6N\``);
          emit(s.body, pad);
          lines.push(`${pad}set __t1 = \`date +%s%6N\``, `${pad}@ __d = $__t1 - $__t0`, `${pad}echo '@S ${label(s.label)}' $__d`);
          break;
        case 'repeat': {
          const r = `__r${v++}`;
          lines.push(`${pad}set ${r} = 0`, `${pad}while ( $${r} < ${s.n} )`, `${pad}  @ ${r}++`);
          emit(s.body, `${pad}  `);
          lines.push(`${pad}end`);
          break;
        }
        case 'promptUntil': {
          const n = name(s.name);
          const i = `__i${v++}`;
          const done = `__done${v++}`;
          lines.push(`${pad}set ${i} = 0`, `${pad}while ( $${i} < ${s.tries} )`, `${pad}  set ${done} = 1`);
          unless(`${pad}  `, n, s.value, `set ${done} = 0`);
          lines.push(`${pad}  if ( $${done} ) break`, `${pad}  @ ${i}++`, `${pad}  sleep ${s.sleep}`, `${pad}  precmd`, `${pad}end`);
          break;
        }
        case 'report': lines.push(`${pad}echo ${q(`@V ${s.text}`)}`); break;
        case 'run': lines.push(`${pad}${s.argv.map(q).join(' ')} >& /dev/null`); break;
        default: unsupported('tcsh', s.k);
      }
    }
  };
  emit(steps, '');
  return lines.join('\n') + '\n';
}

function emitNushell(steps: Step[]): string {
  let v = 0;
  const lines = ['def --env __bp [] { for h in ($env.config.hooks.pre_prompt? | default []) { do --env $h } }'];
  const emit = (list: Step[], pad: string): void => {
    for (const s of list) {
      switch (s.k) {
        case 'cd': lines.push(`${pad}cd ${q(s.dir)}`); break;
        case 'prompt': lines.push(`${pad}__bp`); break;
        case 'expect': {
          const n = name(s.name);
          lines.push(s.value === null
            ? `${pad}if ($env.${n}? != null) { print ('@F ' + ${q(s.what)} + ' ${n}=' + ($env.${n} | into string)) }`
            : `${pad}if ($env.${n}? != ${q(s.value)}) { print ('@F ' + ${q(s.what)} + ' ${n}=' + ($env.${n}? | default '<unset>' | into string)) }`);
          break;
        }
        case 'time': {
          const t = `__t${v++}`;
          lines.push(`${pad}let ${t} = (date now)`);
          emit(s.body, pad);
          lines.push(`${pad}print $"@S ${label(s.label)} (((date now) - $${t}) / 1ns / 1000)"`);
          break;
        }
        case 'repeat':
          lines.push(`${pad}for _ in 1..${s.n} {`);
          emit(s.body, `${pad}  `);
          lines.push(`${pad}}`);
          break;
        case 'promptUntil': {
          const n = name(s.name);
          const i = `__i${v++}`;
          const waiting = s.value === null ? `($env.${n}? != null)` : `($env.${n}? != ${q(s.value)})`;
          lines.push(`${pad}mut ${i} = 0`, `${pad}while ${waiting} and $${i} < ${s.tries} { $${i} += 1; sleep ${Math.max(1, Math.round(s.sleep * 1000))}ms; __bp }`);
          break;
        }
        case 'report': lines.push(`${pad}print ${q(`@V ${s.text}`)}`); break;
        case 'run': lines.push(`${pad}try { ^${s.argv.map(q).join(' ')} o+e> /dev/null } catch { }`); break;
        default: unsupported('nushell', s.k);
      }
    }
  };
  emit(steps, '');
  return lines.join('\n') + '\n';
}

export function emitMore(shell: MoreShell, steps: Step[]): string {
  switch (shell) {
    case 'elvish': return emitElvish(steps);
    case 'tcsh': return emitTcsh(steps);
    case 'nushell': return emitNushell(steps);
  }
}
