#!/bin/bash
# `envd exec DIR CMD [ARGS...]` through the daemon: its own checks, sourced by
# bin/ask-daemon.bash for exec only (export parses none of it). _envd_exec runs before the
# request (it sets _envd_abs, the directory); _envd_exec_checked once the answer is in
# (_envd_ops, _envd_msgs, _envd_status); _envd_run from bin/envd once it has parsed
# _envd_restore_env. Each returns 1 for what Node must decide.
# shellcheck shell=bash disable=SC2154  # _envd_err, _envd_pre, _envd_ops...: set by bin/envd and bin/ask-daemon.bash

# 0 when every argument is printable ASCII (Node refuses some others, and says so).
_envd_plain() {
  local LC_ALL=C _envd_a
  for _envd_a in "$@"; do
    [[ $_envd_a != *[!\ -~]* ]] || return 1
  done
}

# 0 when every argument is ASCII (Node refuses arguments that are not UTF-8).
_envd_ascii() {
  local LC_ALL=C _envd_a
  for _envd_a in "$@"; do
    [[ $_envd_a != *[$'\x80'-$'\xff']* ]] || return 1
  done
}

# The environment as the caller gave it (/proc), checked against what bash will write with
# `declare -px`: a name bash cannot carry or a value it changed means Node (which sees the
# environment as given). PWD, OLDPWD, SHLVL and _ are the shell's own (envd ignores them).
_envd_envok() {
  local _envd_e _envd_n
  local -a _envd_E=()
  mapfile -d '' -t _envd_E < "/proc/$$/environ" 2>/dev/null || return 1
  for _envd_e in "${_envd_E[@]}"; do
    [[ $_envd_e == *=* ]] || return 1
    _envd_n=${_envd_e%%=*}
    case $_envd_n in PWD|OLDPWD|SHLVL|_) continue ;; esac
    [[ $_envd_n == [A-Za-z_]* && $_envd_n != *[!A-Za-z0-9_]* && $_envd_n != _envd_* ]] || return 1
    [[ ${!_envd_n+set} && ${!_envd_n} == "${_envd_e#*=}" ]] || return 1
  done
}

# Path normalised as Node's path.resolve does it (no file system access).
_envd_resolve() {
  local _envd_p=$1 _envd_rest _envd_c
  [[ $_envd_p == /* ]] || _envd_p=$PWD/$_envd_p
  _envd_abs=''
  _envd_rest=$_envd_p
  while [[ -n $_envd_rest ]]; do
    _envd_c=${_envd_rest%%/*}
    if [[ $_envd_rest == */* ]]; then _envd_rest=${_envd_rest#*/}; else _envd_rest=''; fi
    case $_envd_c in
      ''|.) continue ;;
      ..) _envd_abs=${_envd_abs%/*}; continue ;;
    esac
    _envd_abs=$_envd_abs/$_envd_c
  done
  [[ -n $_envd_abs ]] || _envd_abs=/
}

# What can be checked before the request. The command runs from this bash's own
# environment: it must be the one given.
_envd_exec() {
  (( $# >= 2 )) && _envd_plain "$1" "$2" && _envd_ascii "${@:3}" || return 1
  _envd_resolve "$1"
  [[ -d $_envd_abs ]] || return 1
  # Through env(1) (SHLVL unset or not a number), a command named like an option or an
  # assignment would be read as one.
  [[ $2 != -* && $2 != *=* ]] || return 1
  _envd_envok
}

# After the answer: what Node would fail to start (it says why, with its own status),
# looked up on the PATH the command gets; names bash would not export as they are. $1 DIR,
# $2 CMD. Then the messages, and the CLI's refusal when the directory's environment is not
# available.
_envd_exec_checked() {
  local _envd_i _envd_n _envd_m _envd_path=${PATH-}
  for (( _envd_i = 0; _envd_i < ${#_envd_ops[@]}; _envd_i += 3 )); do
    if [[ ${_envd_ops[_envd_i+1]} == PATH ]]; then
      [[ ${_envd_ops[_envd_i]} == x ]] || return 1
      _envd_path=${_envd_ops[_envd_i+2]}
    fi
  done
  if [[ $2 == */* ]]; then
    [[ -f $2 && -x $2 ]] || return 1
  else
    PATH=$_envd_path builtin type -P -- "$2" >/dev/null 2>&1 || return 1
  fi
  # Every name must be one bash exports as it is (not one of its own specials).
  for (( _envd_i = 0; _envd_i < ${#_envd_ops[@]}; _envd_i += 3 )); do
    _envd_n=${_envd_ops[_envd_i+1]}
    [[ $_envd_n == [A-Za-z_]* && $_envd_n != *[!A-Za-z0-9_]* && $_envd_n != _envd_* && $_envd_n != BASH* ]] || return 1
    case $_envd_n in
      SHELLOPTS|EUID|UID|PPID|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|FUNCNAME|GROUPS|DIRSTACK|EPOCHSECONDS|EPOCHREALTIME|COMP_WORDBREAKS|OPTIND|OPTARG|PIPESTATUS|SHLVL|PWD|OLDPWD|_) return 1 ;;
    esac
  done
  for _envd_m in "${_envd_msgs[@]}"; do builtin printf '%s\n' "$_envd_m" >&"$_envd_err"; done
  if [[ $_envd_status != 0 ]]; then
    builtin printf '%s\n' "envd: not running $2: the environment of $1 is not available" >&"$_envd_err"
    exit 1
  fi
}

# The command, with the caller's umask (put back only if a pair of this process's own was
# made), SHLVL as given and the directory's environment. Arguments: bin/envd's.
_envd_run() {
  local _envd_i _envd_n
  [[ -z $_envd_um ]] || builtin umask "$_envd_um"
  _envd_restore_env
  for (( _envd_i = 0; _envd_i < ${#_envd_ops[@]}; _envd_i += 3 )); do
    _envd_n=${_envd_ops[_envd_i+1]}
    if [[ ${_envd_ops[_envd_i]} == u ]]; then builtin unset -v "$_envd_n"; else builtin export "$_envd_n=${_envd_ops[_envd_i+2]}"; fi
  done
  exec "${_envd_pre[@]}" "${@:3}"
}
