# shellcheck shell=bash
# envd completion for bash. Load it with:
#   source <(envd completion bash)          (in ~/.bashrc)
# or save it as ~/.local/share/bash-completion/completions/envd
# The verb table between the generated markers comes from src/cli/verbs.ts; the rest is
# written here. `envd completion bash` prints this file as it is.

# ---- generated from src/cli/verbs.ts by `npm run completions`: do not edit ----
_envd_verbs='hook allow permit grant deny block revoke disallow export exec status reload edit prune stdlib version go daemon doctor completion dump apply_dump show_dump watch watch-dir watch-list watch-print dotenv current fetchurl check-required help'

_envd_subcommands() {
  _envd_subs=''
  case $1 in
    'go') _envd_subs='list which install uninstall' ;;
    'daemon') _envd_subs='start stop restart status run logs install' ;;
  esac
}

_envd_spec() {
  _envd_opts='' _envd_valopts='' _envd_pos=() _envd_rest=none
  case $1 in
    'hook') _envd_opts=''; _envd_valopts=''; _envd_pos=('words:bash,zsh,fish,elvish,tcsh,nushell'); _envd_rest='none' ;;
    'allow') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'permit') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'grant') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'deny') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'block') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'revoke') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'disallow') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'export') _envd_opts='--budget'; _envd_valopts='--budget=none'; _envd_pos=('words:bash,zsh,fish,elvish,tcsh,nushell,json,gha'); _envd_rest='none' ;;
    'exec') _envd_opts=''; _envd_valopts=''; _envd_pos=('dir' 'command'); _envd_rest='file' ;;
    'status') _envd_opts='--json'; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'reload') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'edit') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'prune') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'stdlib') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'version') _envd_opts=''; _envd_valopts=''; _envd_pos=('none'); _envd_rest='none' ;;
    'go') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'go list') _envd_opts='--json'; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'go which') _envd_opts='--json --dir'; _envd_valopts='--dir=dir'; _envd_pos=('none'); _envd_rest='none' ;;
    'go install') _envd_opts='--dir'; _envd_valopts='--dir=dir'; _envd_pos=('none'); _envd_rest='none' ;;
    'go uninstall') _envd_opts=''; _envd_valopts=''; _envd_pos=('none'); _envd_rest='none' ;;
    'daemon') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'daemon start') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'daemon stop') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'daemon restart') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'daemon status') _envd_opts='--json'; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'daemon run') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'daemon logs') _envd_opts='-n'; _envd_valopts='-n=none'; _envd_pos=(); _envd_rest='none' ;;
    'daemon install') _envd_opts='--print --force --remove --platform'; _envd_valopts='--platform=words:linux,darwin'; _envd_pos=(); _envd_rest='none' ;;
    'doctor') _envd_opts='--json --no-start'; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'completion') _envd_opts=''; _envd_valopts=''; _envd_pos=('words:bash,zsh,fish'); _envd_rest='none' ;;
    'dump') _envd_opts=''; _envd_valopts=''; _envd_pos=('words:gzenv,json,bash,zsh,fish,elvish,tcsh,nushell' 'file'); _envd_rest='none' ;;
    'apply_dump') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'show_dump') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'watch') _envd_opts=''; _envd_valopts=''; _envd_pos=('words:bash,zsh,fish,elvish,tcsh,nushell'); _envd_rest='file' ;;
    'watch-dir') _envd_opts=''; _envd_valopts=''; _envd_pos=('dir'); _envd_rest='none' ;;
    'watch-list') _envd_opts='--json'; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'watch-print') _envd_opts='--null -0'; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    'dotenv') _envd_opts=''; _envd_valopts=''; _envd_pos=('words:bash,zsh,fish,elvish,tcsh,nushell,json,gha' 'file'); _envd_rest='none' ;;
    'current') _envd_opts=''; _envd_valopts=''; _envd_pos=('file'); _envd_rest='none' ;;
    'fetchurl') _envd_opts=''; _envd_valopts=''; _envd_pos=('none' 'none'); _envd_rest='none' ;;
    'check-required') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='file' ;;
    'help') _envd_opts=''; _envd_valopts=''; _envd_pos=(); _envd_rest='none' ;;
    *) return 1 ;;
  esac
}
# ---- end of generated ----

_envd_kind() {
  local cur=$1 kind=$2
  case $kind in
    words:*)
      kind=${kind#words:}
      mapfile -t COMPREPLY < <(compgen -W "${kind//,/ }" -- "$cur")
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
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local cmd i n=0 w vo skip=''
  local _envd_subs _envd_opts _envd_valopts _envd_rest
  local -a _envd_pos
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "$_envd_verbs" -- "$cur")
    return 0
  fi
  cmd=${COMP_WORDS[1]}
  i=2
  _envd_subcommands "$cmd"
  if [[ -n $_envd_subs ]]; then
    if ((COMP_CWORD == 2)); then
      mapfile -t COMPREPLY < <(compgen -W "$_envd_subs" -- "$cur")
      return 0
    fi
    cmd="$cmd ${COMP_WORDS[2]}"
    i=3
  fi
  _envd_spec "$cmd" || return 0
  for vo in $_envd_valopts; do
    if [[ $prev == "${vo%%=*}" ]]; then
      _envd_kind "$cur" "${vo#*=}"
      return 0
    fi
  done
  if [[ $cur == -* && -n $_envd_opts ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$_envd_opts" -- "$cur")
    return 0
  fi
  for ((; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ -n $skip ]]; then
      skip=''
      continue
    fi
    if [[ $w == -* ]]; then
      for vo in $_envd_valopts; do
        [[ $w == "${vo%%=*}" ]] && skip=1
      done
      continue
    fi
    n=$((n + 1))
  done
  if ((n < ${#_envd_pos[@]})); then
    _envd_kind "$cur" "${_envd_pos[n]}"
  else
    _envd_kind "$cur" "$_envd_rest"
  fi
  return 0
}

complete -F _envd envd
