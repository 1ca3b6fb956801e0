import { usage } from './command.js';

/**
 * `envd completion bash|zsh|fish`: tab completion for every verb and option.
 *
 * One table (COMMANDS) describes the command line; each shell gets a small generated
 * script whose only data is that table, so the three never disagree about what exists.
 * The table is checked against the CLI's verb table by test/completion.test.ts.
 */

/** What a positional argument (or an option's value) completes to. */
export type ArgKind =
  | { kind: 'words'; words: readonly string[] }
  | { kind: 'file' }
  | { kind: 'dir' }
  | { kind: 'command' }
  /** Free text (a version, a URL, a number): nothing to offer. */
  | { kind: 'none' };

export interface OptionSpec {
  name: string;
  desc: string;
  /** Set when the option takes a value (the next word). */
  value?: ArgKind;
}

export interface CommandSpec {
  name: string;
  desc: string;
  options?: readonly OptionSpec[];
  /** Positional arguments, in order. */
  args?: readonly ArgKind[];
  /** What every positional argument after `args` completes to (e.g. a command's arguments). */
  rest?: ArgKind;
  /** Second-level verbs (`envd go list`, `envd daemon start`). */
  subcommands?: readonly CommandSpec[];
}

const SHELLS = ['bash', 'zsh', 'fish'] as const;
const words = (...w: string[]): ArgKind => ({ kind: 'words', words: w });
const FILE: ArgKind = { kind: 'file' };
const DIR: ArgKind = { kind: 'dir' };
const NONE: ArgKind = { kind: 'none' };
const JSON_OPT: OptionSpec = { name: '--json', desc: 'machine-readable output' };

function alias(of: CommandSpec, name: string): CommandSpec {
  return { ...of, name, desc: `${of.desc} (alias of ${of.name})` };
}

const allow: CommandSpec = { name: 'allow', desc: 'approve an .envrc\'s current content', args: [FILE] };
const deny: CommandSpec = { name: 'deny', desc: 'block an .envrc (wins over approvals)', args: [FILE] };

export const COMMANDS: readonly CommandSpec[] = [
  { name: 'hook', desc: 'print the prompt hook for a shell', args: [words(...SHELLS, 'elvish', 'tcsh', 'nushell')] },
  allow, alias(allow, 'permit'), alias(allow, 'grant'),
  deny, alias(deny, 'block'), alias(deny, 'revoke'), alias(deny, 'disallow'),
  {
    name: 'export', desc: 'print what changes in this directory',
    args: [words('bash', 'zsh', 'fish', 'elvish', 'tcsh', 'nushell', 'json', 'gha')],
    options: [{ name: '--budget', desc: 'milliseconds to wait for a slow .envrc', value: NONE }],
  },
  { name: 'exec', desc: 'run a command with a directory\'s environment', args: [DIR, { kind: 'command' }], rest: FILE },
  { name: 'status', desc: 'what is loaded, found and allowed, and why', options: [JSON_OPT] },
  { name: 'reload', desc: 'evaluate the env file again at the next prompt', args: [FILE] },
  { name: 'edit', desc: 'open the .envrc in $EDITOR and approve the result', args: [FILE] },
  { name: 'prune', desc: 'drop approvals of files that are gone or changed' },
  { name: 'stdlib', desc: 'print the bash stdlib' },
  { name: 'version', desc: 'print the version, or check it is at least MIN', args: [NONE] },
  {
    name: 'go', desc: 'Go SDKs: list, which one a directory gets, install',
    subcommands: [
      { name: 'list', desc: 'Go SDKs installed on this machine', options: [JSON_OPT] },
      {
        name: 'which', desc: 'the GOROOT a directory gets, and why', args: [NONE],
        options: [JSON_OPT, { name: '--dir', desc: 'directory to resolve for', value: DIR }],
      },
      {
        name: 'install', desc: 'download, verify and install a Go release', args: [NONE],
        options: [{ name: '--dir', desc: 'install what this directory pins', value: DIR }],
      },
      { name: 'uninstall', desc: 'remove a Go that envd installed', args: [NONE] },
    ],
  },
  {
    name: 'daemon', desc: 'manage the per-user daemon',
    subcommands: [
      { name: 'start', desc: 'start the daemon if it is not running' },
      { name: 'stop', desc: 'stop the daemon' },
      { name: 'restart', desc: 'stop the daemon and start a new one' },
      { name: 'status', desc: 'whether the daemon answers, and its version', options: [JSON_OPT] },
      { name: 'run', desc: 'run the daemon in the foreground' },
      { name: 'logs', desc: 'print the end of the daemon\'s log', options: [{ name: '-n', desc: 'how many lines (default 50)', value: NONE }] },
      {
        name: 'install', desc: 'write a systemd user unit or launchd agent for the daemon',
        options: [
          { name: '--print', desc: 'print the unit instead of writing it' },
          { name: '--force', desc: 'overwrite an existing unit' },
          { name: '--remove', desc: 'remove the unit envd wrote' },
          { name: '--platform', desc: 'write for this platform', value: words('linux', 'darwin') },
        ],
      },
    ],
  },
  {
    name: 'doctor', desc: 'check the installation: hook, daemon, files, config, bash, Go',
    options: [JSON_OPT, { name: '--no-start', desc: 'do not start the daemon to check it' }],
  },
  { name: 'completion', desc: 'print tab completion for a shell', args: [words(...SHELLS)] },
  { name: 'dump', desc: 'print this environment for a parent to load', args: [words('gzenv', 'json', ...SHELLS), FILE] },
  { name: 'apply_dump', desc: 'bash code that turns the environment into a dump', args: [FILE] },
  { name: 'show_dump', desc: 'decode a dump for reading', args: [FILE] },
  { name: 'watch', desc: 'record a file the loaded environment depends on', args: [{ kind: 'words', words: SHELLS }], rest: FILE },
  { name: 'watch-dir', desc: 'record a directory the loaded environment depends on', args: [DIR] },
  { name: 'watch-list', desc: 'the files the environment depends on, with their state', options: [JSON_OPT] },
  { name: 'watch-print', desc: 'the files the environment depends on', options: [{ name: '--null', desc: 'separate with NUL bytes' }, { name: '-0', desc: 'separate with NUL bytes' }] },
  { name: 'dotenv', desc: 'print a .env file as exports', args: [words('bash', 'zsh', 'fish', 'json', 'gha'), FILE] },
  { name: 'current', desc: 'exit 0 when PATH is watched and unchanged', args: [FILE] },
  { name: 'fetchurl', desc: 'fetch a URL into the cache (with an integrity pin)', args: [NONE, NONE] },
  { name: 'check-required', desc: 'list the files that are not approved (require_allowed)', rest: FILE },
  { name: 'help', desc: 'list the commands' },
];

/** Every first-level word the completion offers (verbs and aliases). */
export function completedVerbs(): string[] {
  return COMMANDS.map((c) => c.name);
}

// ---- shared encoding -------------------------------------------------------------------

/** A kind as one shell word: `words:a,b`, `file`, `dir`, `command`, `none`. */
function kindWord(k: ArgKind): string {
  return k.kind === 'words' ? `words:${k.words.join(',')}` : k.kind;
}

/** Single-quote for bash/zsh (the table holds no quotes, but be correct anyway). */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Single-quote for fish, where `\` and `'` are the only specials inside quotes. */
function fishq(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

interface Leaf {
  /** `export`, `go which`. */
  path: string;
  spec: CommandSpec;
}

function leaves(): Leaf[] {
  const out: Leaf[] = [];
  for (const c of COMMANDS) {
    out.push({ path: c.name, spec: c });
    for (const s of c.subcommands ?? []) out.push({ path: `${c.name} ${s.name}`, spec: s });
  }
  return out;
}

function parents(): CommandSpec[] {
  return COMMANDS.filter((c) => (c.subcommands ?? []).length > 0);
}

/** `--dir=dir --budget=none`: the options that take a value, with their kind. */
function valueOptions(spec: CommandSpec): string {
  return (spec.options ?? []).filter((o) => o.value !== undefined).map((o) => `${o.name}=${kindWord(o.value ?? NONE)}`).join(' ');
}

// ---- bash ------------------------------------------------------------------------------

function bashScript(): string {
  const specCases = leaves().map(({ path, spec }) => {
    const opts = (spec.options ?? []).map((o) => o.name).join(' ');
    const pos = (spec.args ?? []).map(kindWord).map(shq).join(' ');
    return `    ${shq(path)}) _envd_opts=${shq(opts)}; _envd_valopts=${shq(valueOptions(spec))}; _envd_pos=(${pos}); _envd_rest=${shq(spec.rest === undefined ? 'none' : kindWord(spec.rest))} ;;`;
  });
  const subCases = parents().map((p) => `    ${shq(p.name)}) _envd_subs=${shq((p.subcommands ?? []).map((s) => s.name).join(' '))} ;;`);
  return `# envd completion for bash. Load it with:
#   source <(envd completion bash)          (in ~/.bashrc)
# or save it as ~/.local/share/bash-completion/completions/envd
# Generated by envd from its command table; do not edit.

_envd_verbs=${shq(completedVerbs().join(' '))}

_envd_subcommands() {
  _envd_subs=''
  case $1 in
${subCases.join('\n')}
  esac
}

_envd_spec() {
  _envd_opts='' _envd_valopts='' _envd_pos=() _envd_rest=none
  case $1 in
${specCases.join('\n')}
    *) return 1 ;;
  esac
}

_envd_kind() {
  local cur=$1 kind=$2
  case $kind in
    words:*)
      kind=\${kind#words:}
      mapfile -t COMPREPLY < <(compgen -W "\${kind//,/ }" -- "$cur")
      ;;
    file)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      ;;
    dir)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      ;;
    command) mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
    *) COMPREPLY=() ;;
  esac
}

_envd() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local cmd i n=0 w vo skip=''
  local _envd_subs _envd_opts _envd_valopts _envd_rest
  local -a _envd_pos
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "$_envd_verbs" -- "$cur")
    return 0
  fi
  cmd=\${COMP_WORDS[1]}
  i=2
  _envd_subcommands "$cmd"
  if [[ -n $_envd_subs ]]; then
    if ((COMP_CWORD == 2)); then
      mapfile -t COMPREPLY < <(compgen -W "$_envd_subs" -- "$cur")
      return 0
    fi
    cmd="$cmd \${COMP_WORDS[2]}"
    i=3
  fi
  _envd_spec "$cmd" || return 0
  for vo in $_envd_valopts; do
    if [[ $prev == "\${vo%%=*}" ]]; then
      _envd_kind "$cur" "\${vo#*=}"
      return 0
    fi
  done
  if [[ $cur == -* && -n $_envd_opts ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$_envd_opts" -- "$cur")
    return 0
  fi
  for ((; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ -n $skip ]]; then
      skip=''
      continue
    fi
    if [[ $w == -* ]]; then
      for vo in $_envd_valopts; do
        [[ $w == "\${vo%%=*}" ]] && skip=1
      done
      continue
    fi
    n=$((n + 1))
  done
  if ((n < \${#_envd_pos[@]})); then
    _envd_kind "$cur" "\${_envd_pos[n]}"
  else
    _envd_kind "$cur" "$_envd_rest"
  fi
  return 0
}

complete -F _envd envd
`;
}

// ---- zsh -------------------------------------------------------------------------------

function zshDescribed(items: readonly { name: string; desc: string }[]): string {
  // _describe splits on the first unescaped colon.
  return items.map((i) => shq(`${i.name.replace(/:/g, '\\:')}:${i.desc}`)).join(' ');
}

function zshScript(): string {
  const specCases = leaves().map(({ path, spec }) => {
    const pos = (spec.args ?? []).map(kindWord).map(shq).join(' ');
    return `    (${shq(path)}) opts=(${zshDescribed(spec.options ?? [])}); valopts=(${valueOptions(spec).split(' ').filter((x) => x !== '').map(shq).join(' ')}); pos=(${pos}); rest=${shq(spec.rest === undefined ? 'none' : kindWord(spec.rest))} ;;`;
  });
  const subCases = parents().map((p) => `    (${shq(p.name)}) subs=(${zshDescribed(p.subcommands ?? [])}) ;;`);
  return `#compdef envd
# envd completion for zsh. Load it after compinit with:
#   source <(envd completion zsh)           (in ~/.zshrc)
# or save it as _envd in a directory on $fpath.
# Generated by envd from its command table; do not edit.

_envd_kind() {
  local kind=$1
  case $kind in
    (words:*) compadd -- \${(s:,:)kind#words:} ;;
    (file) _files ;;
    (dir) _files -/ ;;
    (command) _command_names -e ;;
    (*) _message 'value' ;;
  esac
}

_envd() {
  local -a verbs subs opts valopts pos
  local cmd rest vo w skip=''
  local -i i n=0
  verbs=(${zshDescribed(COMMANDS)})
  if ((CURRENT == 2)); then
    _describe -t commands 'envd command' verbs
    return
  fi
  cmd=$words[2]
  i=3
  case $cmd in
${subCases.join('\n')}
  esac
  if ((\${#subs})); then
    if ((CURRENT == 3)); then
      _describe -t commands "envd $cmd command" subs
      return
    fi
    cmd="$cmd $words[3]"
    i=4
  fi
  rest=none
  case $cmd in
${specCases.join('\n')}
    (*) return 1 ;;
  esac
  for vo in $valopts; do
    if [[ $words[CURRENT-1] == \${vo%%=*} ]]; then
      _envd_kind \${vo#*=}
      return
    fi
  done
  if [[ $PREFIX == -* ]] && ((\${#opts})); then
    _describe -t options option opts
    return
  fi
  for ((; i < CURRENT; i++)); do
    w=$words[i]
    if [[ -n $skip ]]; then
      skip=''
      continue
    fi
    if [[ $w == -* ]]; then
      for vo in $valopts; do
        [[ $w == \${vo%%=*} ]] && skip=1
      done
      continue
    fi
    n+=1
  done
  if ((n < \${#pos})); then
    _envd_kind $pos[n+1]
  else
    _envd_kind $rest
  fi
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _envd "$@"
else
  compdef _envd envd
fi
`;
}

// ---- fish ------------------------------------------------------------------------------

function fishScript(): string {
  const tab = (name: string, desc: string): string => fishq(`${name}\t${desc}`);
  const specCases = leaves().map(({ path, spec }) => {
    const opts = (spec.options ?? []).map((o) => tab(o.name, o.desc)).join(' ');
    const pos = (spec.args ?? []).map(kindWord).map(fishq).join(' ');
    return `        case ${fishq(path)}\n            set opts ${opts}\n            set valopts ${valueOptions(spec).split(' ').filter((x) => x !== '').map(fishq).join(' ')}\n            set pos ${pos}\n            set rest ${fishq(spec.rest === undefined ? 'none' : kindWord(spec.rest))}`;
  });
  const subCases = parents().map((p) => `        case ${fishq(p.name)}\n            set subs ${(p.subcommands ?? []).map((s) => tab(s.name, s.desc)).join(' ')}`);
  return `# envd completion for fish. Load it with:
#   envd completion fish | source           (in ~/.config/fish/config.fish)
# or save it as ~/.config/fish/completions/envd.fish
# Generated by envd from its command table; do not edit.

function __envd_kind --argument-names kind cur
    switch $kind
        case 'words:*'
            string split , -- (string replace -r '^words:' '' -- $kind)
        case file
            __fish_complete_path $cur
        case dir
            __fish_complete_directories $cur
        case command
            complete -C "$cur"
    end
end

function __envd_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    if test (count $words) -lt 2
        printf '%s\\n' ${COMMANDS.map((c) => tab(c.name, c.desc)).join(' ')}
        return
    end
    set -l cmd $words[2]
    set -l i 3
    set -l subs
    switch $cmd
${subCases.join('\n')}
    end
    if test (count $subs) -gt 0
        if test (count $words) -lt 3
            printf '%s\\n' $subs
            return
        end
        set cmd "$cmd $words[3]"
        set i 4
    end
    set -l opts
    set -l valopts
    set -l pos
    set -l rest none
    switch $cmd
${specCases.join('\n')}
        case '*'
            return
    end
    for vo in $valopts
        if test "$words[-1]" = (string replace -r '=.*' '' -- $vo)
            __envd_kind (string replace -r '^[^=]*=' '' -- $vo) $cur
            return
        end
    end
    if string match -q -- '-*' $cur; and test (count $opts) -gt 0
        printf '%s\\n' $opts
        return
    end
    set -l n 0
    set -l skip 0
    while test $i -le (count $words)
        set -l w $words[$i]
        set i (math $i + 1)
        if test $skip -eq 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $w
            for vo in $valopts
                if test "$w" = (string replace -r '=.*' '' -- $vo)
                    set skip 1
                end
            end
            continue
        end
        set n (math $n + 1)
    end
    if test $n -lt (count $pos)
        __envd_kind $pos[(math $n + 1)] $cur
    else
        __envd_kind $rest $cur
    end
end

complete -c envd -e
complete -c envd -f -a '(__envd_complete)'
`;
}

export function completionScript(shell: 'bash' | 'zsh' | 'fish'): string {
  return shell === 'bash' ? bashScript() : shell === 'zsh' ? zshScript() : fishScript();
}

export async function run(args: string[]): Promise<number> {
  const shell = args[0];
  if (args.length !== 1 || (shell !== 'bash' && shell !== 'zsh' && shell !== 'fish')) {
    return usage("completion needs one shell: 'envd completion bash', 'envd completion zsh' or 'envd completion fish'");
  }
  process.stdout.write(completionScript(shell));
  return 0;
}
