/**
 * Compiles a plan (src/bench/plan.ts) into a script for one shell. The timer is the
 * shell's own: bash `$EPOCHREALTIME`, zsh `$epochtime` (zsh/datetime), fish the `time`
 * keyword (fish 3.6 has no clock variable; `time` reports to the shell's stderr with
 * microsecond resolution and starts no process). Everything outside the timed bodies,
 * checks included, is not counted.
 */
import type { Shell, Step } from './plan.js';
import { emitMore } from './emit-more.js';
import { quoteBash, quoteFish } from '../env/quote.js';

const LABEL = /^[A-Za-z0-9_.:-]+$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;


function checkLabel(label: string): string {
  if (!LABEL.test(label)) throw new Error(`bench: bad label ${JSON.stringify(label)}`);
  return label;
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`bench: bad variable name ${JSON.stringify(name)}`);
  return name;
}

function checkPattern(text: string): string {
  if (/[*?[\]\\]/.test(text)) throw new Error(`bench: pattern characters in ${JSON.stringify(text)}`);
  return text;
}

/** The bash and zsh dialects differ only in the prompt, the clock and the module load. */
function emitPosix(shell: 'bash' | 'zsh', steps: Step[]): string {
  const q = quoteBash;
  let loop = 0;
  const lines: string[] = [];
  if (shell === 'bash') {
    lines.push(
      '# The prompt: what bash runs before drawing PS1.',
      '__bp() { local __c; for __c in "${PROMPT_COMMAND[@]}"; do eval "$__c"; done; }',
      // Kept until the end (printed then): a line per sample on the pipe would wake the
      // harness in the middle of what it times, on the cores the timed tools share.
      "__bs() { __sb+=\"@S $1 $(( ${__t1//[!0-9]/} - ${__t0//[!0-9]/} ))\"$'\\n'; }",
    );
  } else {
    lines.push(
      'zmodload zsh/datetime',
      '# The prompt: what zsh runs before drawing PS1 (chpwd_functions already ran in cd).',
      '__bp() { local __f; for __f in $precmd_functions; do $__f; done; }',
      "__bs() { local __x; printf -v __x '@S %s %.3f\\n' \"$1\" $(( ((__t1[1] - __t0[1]) * 1000000000 + __t1[2] - __t0[2]) / 1000.0 )); __sb+=$__x; }",
    );
  }
  lines.push("__bf() { printf '@F %s %s\\n' \"$1\" \"$2\"; }", '__out=', '__sb=');

  const emit = (list: Step[], depth: number, inTime: boolean): void => {
    const pad = '  '.repeat(depth);
    for (const s of list) {
      switch (s.k) {
        case 'cd':
          lines.push(`${pad}cd ${q(s.dir)} || __bf cd ${q(s.dir)}`);
          break;
        case 'prompt':
          lines.push(`${pad}__bp`);
          break;
        case 'expect': {
          const n = checkName(s.name);
          if (s.value === null) {
            lines.push(`${pad}[[ -z \${${n}+set} ]] || __bf ${q(s.what)} "${n}=\${${n}}"`);
          } else {
            lines.push(`${pad}[[ \${${n}+set} == set && "\$${n}" == ${q(s.value)} ]] || __bf ${q(s.what)} "${n}=\${${n}-<unset>}"`);
          }
          break;
        }
        case 'capture':
          lines.push(`${pad}__out=$(${s.argv.map(q).join(' ')} 2>&1)`);
          break;
        case 'expectOut':
          lines.push(`${pad}[[ $__out == *${q(checkPattern(s.contains))}* ]] || __bf ${q(s.what)} "$__out"`);
          break;
        case 'time':
          if (inTime) throw new Error('bench: nested timing');
          // The clock is read inline, not in a function: nothing but the body is counted.
          lines.push(`${pad}${shell === 'bash' ? '__t0=$EPOCHREALTIME' : '__t0=($epochtime)'}`);
          emit(s.body, depth, true);
          lines.push(`${pad}${shell === 'bash' ? '__t1=$EPOCHREALTIME' : '__t1=($epochtime)'}`, `${pad}__bs ${checkLabel(s.label)}`);
          break;
        case 'repeat': {
          const v = `__r${loop++}`;
          lines.push(`${pad}for (( ${v} = 0; ${v} < ${s.n}; ${v}++ )); do`);
          lines.push(`${pad}  :`);
          emit(s.body, depth + 1, inTime);
          lines.push(`${pad}done`);
          break;
        }
        case 'promptUntil': {
          const n = checkName(s.name);
          lines.push(`${pad}__i=0`);
          const differs = s.value === null ? `-n \${${n}+set}` : `"\${${n}-}" != ${q(s.value)}`;
          lines.push(`${pad}while [[ ${differs} ]] && (( __i++ < ${s.tries} )); do sleep ${s.sleep}; __bp; done`);
          break;
        }
        case 'report':
          lines.push(`${pad}printf '@V %s\\n' ${q(s.text)}`);
          break;
        case 'barrier':
          lines.push(`${pad}exec {__bfd}<>${q(s.fifo)}`, `${pad}printf '@R\\n'`, `${pad}IFS= read -r -u "$__bfd" __x`, `${pad}exec {__bfd}>&-`);
          break;
        case 'run':
          lines.push(`${pad}${s.argv.map(q).join(' ')} >/dev/null 2>&1`);
          break;
      }
    }
  };
  emit(steps, 0, false);
  lines.push("printf '%s' \"$__sb\"");
  return lines.join('\n') + '\n';
}

function emitFish(steps: Step[]): string {
  const q = quoteFish;
  let fn = 0;
  let loop = 0;
  const defs: string[] = [
    '# The prompt: what fish does before drawing one (PWD handlers already ran in cd).',
    'function __bp; emit fish_prompt; end',
    "function __bf; printf '@F %s %s\\n' $argv[1] \"$argv[2]\"; end",
    "set -g __out ''",
  ];

  const emit = (list: Step[], depth: number, inTime: boolean): string[] => {
    const pad = '    '.repeat(depth);
    const out: string[] = [];
    for (const s of list) {
      switch (s.k) {
        case 'cd':
          out.push(`${pad}cd ${q(s.dir)}; or __bf cd ${q(s.dir)}`);
          break;
        case 'prompt':
          out.push(`${pad}__bp`);
          break;
        case 'expect': {
          const n = checkName(s.name);
          if (s.value === null) {
            out.push(`${pad}if set -q ${n}; __bf ${q(s.what)} "${n}=$${n}"; end`);
          } else {
            out.push(`${pad}if not set -q ${n}; or test "$${n}" != ${q(s.value)}; __bf ${q(s.what)} "${n}=$${n}"; end`);
          }
          break;
        }
        case 'capture':
          out.push(`${pad}set -g __out (${s.argv.map(q).join(' ')} 2>&1 | string collect)`);
          break;
        case 'expectOut':
          out.push(`${pad}if not string match -q -- ${q(`*${checkPattern(s.contains)}*`)} "$__out"; __bf ${q(s.what)} "$__out"; end`);
          break;
        case 'time': {
          if (inTime) throw new Error('bench: nested timing');
          const name = `__b${fn++}`;
          const body = emit(s.body, 1, true);
          defs.push(`function ${name}`, ...body, 'end');
          // `time` writes its report to the shell's own stderr, after the body's output.
          out.push(`${pad}echo ${q(`@T ${checkLabel(s.label)}`)} >&2`, `${pad}time ${name}`);
          break;
        }
        case 'repeat': {
          const v = `__r${loop++}`;
          out.push(`${pad}set -g ${v} 0`, `${pad}while test $${v} -lt ${s.n}`, `${pad}    set ${v} (math $${v} + 1)`);
          out.push(...emit(s.body, depth + 1, inTime));
          out.push(`${pad}end`);
          break;
        }
        case 'promptUntil': {
          const n = checkName(s.name);
          out.push(
            `${pad}set -g __i 0`,
            s.value === null
              ? `${pad}while set -q ${n}; and test $__i -lt ${s.tries}`
              : `${pad}while test "$${n}" != ${q(s.value)} -a $__i -lt ${s.tries}`,
            `${pad}    set __i (math $__i + 1)`,
            `${pad}    sleep ${s.sleep}`,
            `${pad}    __bp`,
            `${pad}end`,
          );
          break;
        }
        case 'report':
          out.push(`${pad}echo ${q(`@V ${s.text}`)}`);
          break;
        case 'barrier':
          throw new Error('bench: barriers are bash-only');
        case 'run':
          out.push(`${pad}${s.argv.map(q).join(' ')} >/dev/null 2>&1`);
          break;
      }
    }
    return out;
  };
  const main = emit(steps, 0, false);
  return [...defs, ...main].join('\n') + '\n';
}

export function emitScript(shell: Shell, steps: Step[]): string {
  switch (shell) {
    case 'fish': return emitFish(steps);
    case 'bash':
    case 'zsh': return emitPosix(shell, steps);
    default: return emitMore(shell, steps);
  }
}
