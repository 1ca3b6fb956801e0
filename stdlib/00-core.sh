# envd stdlib: core. Sourced into every evaluation before the .envrc; must not fork at
# load time. Talks to envd over a private socket ($__envd_fd) for anything that needs the
# trust store, parsing or caches (see docs/architecture.md, "RPC on the private socket").

# Whether this bash is an envd evaluation (the private socket is open), not a plain shell
# that sourced `envd stdlib`.
__envd_inside() {
  [[ -n ${__envd_fd:-} ]]
}

# Ask envd. Fields of the reply land in the array __envd_reply; non-zero on error, with
# the message logged. Outside an evaluation the request goes to __envd_outside_NAME
# (stdlib/60-outside.sh), which answers by running the binary named by $direnv, as
# direnv's own stdlib does everywhere.
__envd_rpc() {
  local __envd_st __envd_cnt __envd_f __envd_i
  # Fields are bytes. In a UTF-8 locale bash's `read -d ''` takes a byte that starts an
  # incomplete character together with the NUL after it (a value ending in Latin-1 `\xe9`
  # would swallow the next field); in the C locale every byte is a character.
  local LC_ALL=C
  __envd_reply=()
  if ! __envd_inside; then
    if declare -F "__envd_outside_$1" >/dev/null; then
      "__envd_outside_$1" "${@:2}"
      return
    fi
    log_error "$1: not available outside an envd evaluation"
    return 1
  fi
  printf '%s\0' "$#" "$@" >&"$__envd_fd" || return 1
  IFS= read -r -d '' -u "$__envd_fd" __envd_st || return 1
  IFS= read -r -d '' -u "$__envd_fd" __envd_cnt || return 1
  for ((__envd_i = 0; __envd_i < __envd_cnt; __envd_i++)); do
    IFS= read -r -d '' -u "$__envd_fd" __envd_f || return 1
    __envd_reply+=("$__envd_f")
  done
  if [[ $__envd_st != ok ]]; then
    log_error "${__envd_reply[0]:-$1 failed}"
    return 1
  fi
  return 0
}

# __envd_printable TEXT: sets REPLY to TEXT with control characters written as \xHH.
# Messages name files and directories, whose names may hold ESC or a newline; raw, those
# would reach the terminal (a cleared screen, a forged line of output). No fork.
__envd_printable() {
  REPLY=$1
  [[ $REPLY == *[[:cntrl:]]* ]] || return 0
  local __envd_o='' __envd_c __envd_i LC_ALL=C
  for ((__envd_i = 0; __envd_i < ${#REPLY}; __envd_i++)); do
    __envd_c=${REPLY:__envd_i:1}
    if [[ $__envd_c == [[:cntrl:]] ]]; then printf -v __envd_c '\\x%02x' "'$__envd_c"; fi
    __envd_o+=$__envd_c
  done
  REPLY=$__envd_o
}

# Messages go to stderr, prefixed like direnv's so people recognise them.
log_status() {
  local REPLY
  __envd_printable "$*"
  if [[ -n ${DIRENV_LOG_FORMAT:-} ]]; then
    # shellcheck disable=SC2059
    printf "${DIRENV_LOG_FORMAT}\n" "$REPLY" >&2
  elif [[ $# -gt 0 ]]; then
    printf 'envd: %s\n' "$REPLY" >&2
  fi
}

log_error() {
  local REPLY
  __envd_printable "$*"
  # Inside envd's evaluation the output is shown by envd, which drops the colour for
  # NO_COLOR and non-terminals; anywhere else, plain.
  if [[ -z ${__ENVD_COLOR:-} ]]; then
    printf 'envd: %s\n' "$REPLY" >&2
  else
    printf '\033[31menvd: %s\033[0m\n' "$REPLY" >&2
  fi
}

# has CMD: whether CMD can be run (function, builtin or on PATH).
has() {
  type "$1" &>/dev/null
}

# __envd_expand PATH [BASE]: sets REPLY to the absolute path of PATH relative to BASE
# (default $PWD), with `.` and `..` folded. No fork: the stdlib calls it a lot.
__envd_expand() {
  local path=$1 base=${2:-$PWD}
  [[ $path == "~" ]] && path=$HOME
  # shellcheck disable=SC2088 # a literal `~/` is what is looked for, to expand it here
  [[ $path == "~/"* ]] && path=$HOME/${path#"~/"}
  [[ $base == /* ]] || base=$PWD/$base
  [[ $path == /* ]] || path=$base/$path
  local -a parts=() out=()
  local IFS=/ part
  read -r -a parts <<<"$path" || true
  for part in "${parts[@]}"; do
    case $part in
      '' | .) ;;
      ..) ((${#out[@]} > 0)) && unset 'out[${#out[@]}-1]' ;;
      *) out+=("$part") ;;
    esac
  done
  REPLY="/${out[*]}"
}

# expand_path PATH [BASE]: prints the absolute path (see __envd_expand).
expand_path() {
  local REPLY
  __envd_expand "$@"
  printf '%s\n' "$REPLY"
}

# user_rel_path PATH: PATH with $HOME shown as ~.
user_rel_path() {
  local path=${1#-}
  if [[ -n ${HOME:-} && $HOME != / && ($path == "$HOME" || $path == "$HOME"/*) ]]; then
    printf '~%s\n' "${path#"$HOME"}"
  else
    printf '%s\n' "$path"
  fi
}

# find_up NAME: the nearest NAME in this directory or a parent; prints its path.
find_up() {
  local dir=$PWD
  while true; do
    if [[ -e $dir/$1 ]]; then
      printf '%s\n' "$dir/$1"
      return 0
    fi
    [[ -z $dir || $dir == / ]] && return 1
    dir=${dir%/*}
    [[ -z $dir ]] && dir=/
  done
}

# join_args ARGS...: one string that bash reads back as the same words.
join_args() {
  printf '%q ' "$@"
  printf '\n'
}

# shellcheck disable=SC2120 # the command to run is optional
strict_env() {
  set -o errexit -o nounset -o pipefail
  if [[ $# -gt 0 ]]; then
    "$@"
    local status=$?
    unstrict_env
    return "$status"
  fi
}

unstrict_env() {
  set +o errexit +o nounset +o pipefail
  if [[ $# -gt 0 ]]; then
    "$@"
    local status=$?
    strict_env
    return "$status"
  fi
}

# direnv_layout_dir: where layouts keep per-project state (.direnv by default).
direnv_layout_dir() {
  printf '%s\n' "${direnv_layout_dir:-$PWD/.direnv}"
}

# watch_file PATH...: the result depends on these files; a change re-evaluates.
watch_file() {
  local p
  local -a abs=()
  local REPLY
  for p in "$@"; do
    __envd_expand "$p"
    abs+=("$REPLY")
  done
  ((${#abs[@]} == 0)) || __envd_rpc watch "${abs[@]}"
}

# watch_dir DIR: the result depends on everything below DIR.
watch_dir() {
  local REPLY
  __envd_expand "$1"
  __envd_rpc watch-dir "$REPLY"
}

# Prepend entries to a colon-separated list VAR (first argument first), dropping other
# copies of the new entries so repeated loads never duplicate them.
__envd_list_prepend() {
  local var=$1 entry item a dup
  shift
  local -a add=() items=() keep=()
  local REPLY
  for entry in "$@"; do
    __envd_expand "$entry"
    add+=("$REPLY")
  done
  local IFS=:
  read -r -a items <<<"${!var-}" || true
  for item in "${items[@]}"; do
    dup=
    for a in "${add[@]}"; do [[ $item == "$a" ]] && dup=1 && break; done
    [[ -z $dup ]] && keep+=("$item")
  done
  if ((${#keep[@]} > 0)); then
    export "$var=${add[*]}:${keep[*]}"
  else
    export "$var=${add[*]}"
  fi
}

# PATH_add DIR...: put DIR(s) first on PATH.
PATH_add() {
  __envd_list_prepend PATH "$@"
}

# path_add VAR DIR...: put DIR(s) first in the list VAR.
path_add() {
  local var=$1
  shift
  __envd_list_prepend "$var" "$@"
}

# MANPATH_add DIR: as PATH_add for MANPATH; keeps a trailing ':' so man's defaults stay.
MANPATH_add() {
  local old=${MANPATH-}
  [[ -z $old ]] && old=$(manpath 2>/dev/null || true)
  MANPATH=$old
  __envd_list_prepend MANPATH "$@"
}

# path_rm VAR PATTERN...: drop entries matching a glob pattern from the list VAR.
path_rm() {
  local var=$1
  shift
  local -a items=() keep=()
  local IFS=: item pat drop
  read -r -a items <<<"${!var-}" || true
  for item in "${items[@]}"; do
    drop=
    for pat in "$@"; do
      # shellcheck disable=SC2053
      [[ $item == $pat ]] && drop=1 && break
    done
    [[ -z $drop ]] && keep+=("$item")
  done
  export "$var=${keep[*]}"
}

PATH_rm() {
  path_rm PATH "$@"
}

# env_vars_required NAME...: fail loudly when one of them is unset or empty.
env_vars_required() {
  local name missing=0
  for name in "$@"; do
    if [[ -z ${!name:-} ]]; then
      log_error "env var $name is required but missing/empty"
      missing=1
    fi
  done
  return "$missing"
}

# layout NAME ARGS...: call layout_NAME.
layout() {
  local name=$1
  shift
  if has "layout_$name"; then
    "layout_$name" "$@"
  else
    log_error "layout '$name' is not defined"
    return 1
  fi
}

# use NAME [VERSION...]: call use_NAME (saying so, as direnv does).
use() {
  local name=$1
  # use_go says which SDK it picked and from where; the others get direnv's line.
  [[ $name == go ]] || log_status "using $*"
  shift
  if has "use_$name"; then
    "use_$name" "$@"
  else
    log_error "use '$name' is not defined"
    return 1
  fi
}

# __envd_user_rel PATH: sets REPLY to PATH with $HOME shown as ~ (no fork).
__envd_user_rel() {
  local path=$1
  if [[ -n ${HOME:-} && $HOME != / && ($path == "$HOME" || $path == "$HOME"/*) ]]; then
    REPLY="~${path#"$HOME"}"
  else
    REPLY=$path
  fi
}
