#!/bin/bash
# `envd export FORMAT [--budget MS]` and `envd exec DIR CMD...` asked of a running daemon:
# sourced by bin/envd (bash 4.4+) with _envd_root set to the package root, before bin/envd
# parses anything the other verbs need (bash parses a script as it runs it, a top-level
# command at a time: what is not reached costs nothing). The request goes out as soon as
# the functions that make it are parsed; what reads and checks the answer (and exec's own
# checks) is parsed while the daemon works on it. Export exits with the answer; exec, once
# everything is checked, returns 0 with _envd_go set (bin/envd then calls _envd_run).
# Anything else returns 1 before anything was printed or run, and bin/envd hands over to
# Node (_envd_node, which also frees a claimed pair and puts the umask back). stderr is
# /dev/null here (bin/envd redirects the whole file once, not each command that could
# complain): messages go to _envd_err, the caller's stderr.
# shellcheck shell=bash disable=SC2154  # _envd_root, _envd_err, _envd_pre: set by bin/envd

# ---- export and exec through the daemon -------------------------------------------------
# A FIFO pair of the daemon's door pairs (or one of this process's own), used as a bash
# hook uses its own (shells/bash.sh), with flag `t`: the daemon waits for the final outcome
# and answers with what `envd export` would print (`o`, json with flag `j`) or, for exec
# (flag `r`), the change itself as `x`/`u` records, and the exit status (`s`).
# Anything not exactly right falls back to Node before anything was printed or run.

# The runtime dir exactly as src/config/paths.ts computes it; used only when it and sh/
# are this user's directories and not links, as is every file this side writes or reads
# (builtin tests). Its modes take stat(1), a process: the daemon checks them at every
# request on its door pairs (src/daemon/door-pairs.ts) and refuses one that fails (the
# CLI then says what is wrong); bin/ask-daemon-pair.bash checks them before this side
# makes a pair of its own.
# shellcheck source=shells/bash/run-dir.bash
builtin source "$_envd_root/shells/bash/run-dir.bash"
_envd_rundir() {
  _envd_run_dir
  [[ $_envd_run == /* && ! -L $_envd_run && -d $_envd_run && -O $_envd_run ]] || return 1
  [[ -d $_envd_run/sh && ! -L $_envd_run/sh && -O $_envd_run/sh ]] || return 1
  [[ -p $_envd_run/hook.fifo && -O $_envd_run/hook.fifo && -f $_envd_run/hook.pid && -O $_envd_run/hook.pid ]]
}

# 0 when the daemon named in hook.pid is running (not gone, a zombie or stopped). With
# `there`, only that it is there: before the request (a daemon stopped or a zombie leaves
# the request unread, which the wait sees within 0.1 s), without reading /proc.
_envd_live() {
  local _envd_ps
  [[ -n $_envd_pid && $_envd_pid != *[!0-9]* ]] || return 1
  builtin kill -0 "$_envd_pid" || return 1
  [[ ${1-} != there ]] || return 0
  if _envd_pstate "$_envd_pid"; then [[ $_envd_ps != [ZTtXx] ]] || return 1; fi
}

# A free pair of the daemon's for front doors (src/daemon/door-pairs.ts): claimed by
# creating its lock with noclobber (O_EXCL), a builtin. 1 when every one is taken or none
# has been made yet.
_envd_claim() {
  local _envd_i _envd_b _envd_rc
  for _envd_i in 0 1 2 3 4 5 6 7; do
    _envd_b=$_envd_run/sh/door-$_envd_i
    # Taken (or not yet freed by the daemon): the next, without a failed create.
    [[ ! -e $_envd_b.lock ]] || continue
    [[ -p $_envd_b.req && -O $_envd_b.req && -p $_envd_b.res && -O $_envd_b.res && -f $_envd_b.env && -O $_envd_b.env ]] || return 1
    set -C
    builtin printf '%s\n' "$$" >"$_envd_b.lock"
    _envd_rc=$?
    set +C
    if (( _envd_rc == 0 )); then _envd_pair=$_envd_b _envd_lock=$_envd_b.lock; return 0; fi
  done
  return 1
}

# Done with the claimed pair: `-` in its lock, and the daemon frees the slot (an empty
# lock is a claim being made: src/daemon/door-pairs.ts).
_envd_release() {
  [[ -z $_envd_lock ]] || builtin printf '%s\n' - >|"$_envd_lock" || :
  _envd_lock=''
}

# The caller's umask, from /proc (`umask` alone would print it, in a subshell: a fork).
_envd_um=''
_envd_umask() {
  local _envd_l
  if [[ -z $_envd_um ]]; then
    while IFS= builtin read -r _envd_l; do
      if [[ $_envd_l == Umask:* ]]; then _envd_um=${_envd_l#Umask:}; _envd_um=${_envd_um//[!0-7]/}; break; fi
    done < "/proc/$$/status"
  else
    builtin umask "$_envd_um"
  fi
  [[ -n $_envd_um ]]
}

# 0: the path fits in PATH_MAX (4096 bytes). Deeper, a program cannot name its own working
# directory: the CLI says so in one line (its message), as it would without a daemon.
_envd_fits() {
  # A character is at most a few bytes: a short path fits without counting them (bash
  # counts bytes only under LC_ALL=C, and each switch of the locale costs ~40 us).
  (( ${#1} < 512 )) && return 0
  local LC_ALL=C
  (( ${#1} < 4096 ))
}

# The common checks, then the request (flag `E`: the environment as the caller gave it,
# /proc's copy, exact bytes). $1 format (bash|zsh|fish...), $2 flags, $3 directory. Sets
# _envd_id, _envd_pair and the FIFOs' descriptors _envd_q and _envd_r.
_envd_send() {
  local _envd_fl=Et$2 _envd_tok
  [[ ${ENVD_NO_DAEMON-} != 1 && -r /proc/$$/environ ]] || return 1
  _envd_fits "$PWD" && _envd_fits "$3" || return 1
  _envd_umask && _envd_rundir || return 1
  # exec runs the command from this bash's own environment: it must be the one given.
  [[ $2 != *r* ]] || _envd_envok || return 1
  mapfile -d '' -t _envd_E < "/proc/$$/environ" || return 1
  # The caller's stderr (this file's is /dev/null).
  if [[ -t $_envd_err && -z ${NO_COLOR-} && ${TERM-} != dumb ]]; then _envd_fl+=c; fi
  builtin read -r _envd_pid < "$_envd_run/hook.pid" || :
  _envd_live there || return 1
  # Unique to this process and moment: a door pair serves one front door after another.
  _envd_tok=${EPOCHREALTIME-}$RANDOM$RANDOM
  _envd_id=${_envd_tok//[!0-9]/}$$
  # Owner-only whatever the umask, and new (noclobber); the umask goes back before anything
  # else runs (_envd_umask).
  builtin umask 077
  if ! _envd_claim; then
    # None free (or none made yet): a pair of this process's own (bin/ask-daemon-pair.bash,
    # parsed only then); it sets _envd_pair.
    builtin source "$_envd_root/bin/ask-daemon-pair.bash" || return 1
  fi
  exec {_envd_q}<>"$_envd_pair.req" {_envd_r}<>"$_envd_pair.res" || return 1
  builtin printf '%s\0' "${_envd_E[@]}" "#envd $_envd_id" 1<>"$_envd_pair.env" || return 1
  builtin printf '%s\0' ENVD-HOOK 1 "$_envd_id" "$1" "$_envd_fl" "$3" '' >&"$_envd_q"
}

# `envd export FORMAT [--budget MS]`. `--budget MS` (the hooks' fallback): answered within
# the daemon's own budget (flag b), the one every hook passes (src/daemon/cli-answer.ts).
_envd_export() {
  local _envd_bf=''
  if [[ $# == 3 && $2 == --budget && $3 == [0-9]* && $3 != *[!0-9]* && ${#3} -lt 10 ]]; then _envd_bf=b
  elif [[ $# != 1 ]]; then return 1; fi
  case $1 in
    bash|zsh|fish|elvish|tcsh|nushell) _envd_send "$1" "$_envd_bf" "$PWD" ;;
    json) _envd_send bash "j$_envd_bf" "$PWD" ;;
    *) return 1 ;;
  esac
}

_envd_lock='' _envd_pair='' _envd_id=''
declare -ga _envd_ops=()
declare -a _envd_rep=() _envd_msgs=() _envd_E=()
if [[ $1 == export ]]; then _envd_export "${@:2}" || return 1; fi

# ---- exec's checks before its request (export parses them while the daemon works) --------
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

# `envd exec DIR CMD [ARGS...]`: what can be checked before the request.
_envd_exec() {
  (( $# >= 2 )) && _envd_plain "$1" "$2" && _envd_ascii "${@:3}" || return 1
  _envd_resolve "$1"
  [[ -d $_envd_abs ]] || return 1
  # Through env(1) (SHLVL unset or not a number), a command named like an option or an
  # assignment would be read as one.
  [[ $2 != -* && $2 != *=* ]] || return 1
  _envd_send bash r "$_envd_abs"
}

if [[ $1 == exec ]]; then _envd_exec "${@:2}" || return 1; fi

# ---- the answer ---------------------------------------------------------------------------
# The version this side speaks, as the CLI's speakingVersion: ENVD_TEST_VERSION, else the
# top-level "version" of this package's package.json (read at each call: an upgrade in
# place changes it under a running daemon).
_envd_version() {
  local _envd_l
  _envd_ver=${ENVD_TEST_VERSION-}
  [[ -z $_envd_ver ]] || return 0
  # The build's copy (scripts/build-assets.mjs) when it is for this package.json: one line.
  if [[ $_envd_root/dist/front-door/version -nt $_envd_root/package.json ]] &&
    IFS= builtin read -r _envd_ver < "$_envd_root/dist/front-door/version" && [[ -n $_envd_ver ]]; then
    return 0
  fi
  while IFS= builtin read -r _envd_l; do
    if [[ $_envd_l =~ \"version\":\ *\"([^\"]*)\" ]]; then _envd_ver=${BASH_REMATCH[1]}; return 0; fi
  done < "$_envd_root/package.json"
}

# The line `d ID` that says the reply is there. Unread after 0.1 s: nobody is reading (a
# stopped daemon), unless the daemon is running (its state in /proc): then it may take up
# to 3 s more to read it (a busy machine). Read: the daemon is working on it; it is looked
# at every second and given up on once it is gone or stopped, or the pair is no longer
# there. The line is
# known to the byte (ASCII: as many characters as bytes in any locale): read as so many
# characters (-N), bash takes them in one read(2), where a line is read a byte at a time
# (a select and a read each). Lines of earlier requests on this pair may come first: whole
# lines are dropped, and what is left (_envd_l) is never followed by fewer bytes than
# asked for, so no read asks past the awaited line's end. A timeout leaves what was read
# in the variable.
_envd_wait() {
  local _envd_want="d $_envd_id"$'\n' _envd_l='' _envd_p='' _envd_n _envd_t=0.1 _envd_k=0 _envd_u=0 _envd_rc
  while :; do
    _envd_n=${#_envd_want}
    [[ $_envd_want != "$_envd_l"* ]] || (( _envd_n -= ${#_envd_l} ))
    _envd_rc=0
    IFS= builtin read -r -d '' -N "$_envd_n" -t "$_envd_t" -u "$_envd_r" _envd_p || _envd_rc=$?
    _envd_l+=$_envd_p
    [[ $_envd_l == *"$_envd_want" ]] && break
    [[ $_envd_l != *$'\n'* ]] || _envd_l=${_envd_l##*$'\n'}
    if (( _envd_rc == 0 )); then (( ++_envd_k < 64 )) && continue; return 1; fi
    # Not a timeout (>128): the FIFO is gone or broken.
    (( _envd_rc > 128 )) || return 1
    if [[ $_envd_t == 0.1 ]]; then
      _envd_t=1
      # Unread: nobody reads it (a stopped daemon, a zombie), unless the daemon is running
      # and only slow to get to it (a busy machine): then it has a few seconds more.
      if builtin read -t 0 -u "$_envd_q"; then _envd_live || return 1; fi
    else
      # The daemon dropped the pair (its files removed or made again): no answer will come.
      [[ /dev/fd/$_envd_r -ef $_envd_pair.res ]] || return 1
      _envd_live || return 1
      if builtin read -t 0 -u "$_envd_q"; then (( ++_envd_u < 3 )) || return 1; fi
    fi
  done
  exec {_envd_q}>&- {_envd_r}>&-
}

# The reply in `.out`: `ENVD-HOOK 1 ID`, records that tile the rest exactly, `z ID`; `o`
# and `s` must be there (a daemon that does not know flag `t` answers as to a hook: Node
# then), and `V` this package's version (another: the CLI decides, it replaces an older
# daemon). 0 with _envd_out or _envd_ops, _envd_msgs and _envd_status set.
_envd_reply() {
  mapfile -d '' -t _envd_rep < "$_envd_pair.out" || return 1
  _envd_release
  local _envd_i=3 _envd_c=${#_envd_rep[@]} _envd_st='' _envd_dv=''
  [[ ${_envd_rep[0]-} == ENVD-HOOK && ${_envd_rep[1]-} == 1 && ${_envd_rep[2]-} == "$_envd_id" ]] || return 1
  _envd_msgs=() _envd_ops=() _envd_out='' _envd_status=''
  while (( _envd_i < _envd_c )); do
    case ${_envd_rep[_envd_i]} in
      x) (( _envd_i + 2 < _envd_c )) || return 1
         _envd_ops+=(x "${_envd_rep[_envd_i+1]}" "${_envd_rep[_envd_i+2]}"); (( _envd_i += 3 )) ;;
      u) _envd_ops+=(u "${_envd_rep[_envd_i+1]-}" ''); (( _envd_i += 2 )) ;;
      m) _envd_msgs+=("${_envd_rep[_envd_i+1]-}"); (( _envd_i += 2 )) ;;
      o) _envd_out=${_envd_rep[_envd_i+1]-}; (( _envd_i += 2 )) ;;
      s) _envd_st=${_envd_rep[_envd_i+1]-}; (( _envd_i += 2 )) ;;
      V) _envd_dv=${_envd_rep[_envd_i+1]-}; (( _envd_i += 2 )) ;;
      p) (( _envd_i += 1 )) ;;
      [kgwf]) (( _envd_i += 2 )) ;;
      z) (( _envd_i + 2 == _envd_c )) && [[ ${_envd_rep[_envd_i+1]} == "$_envd_id" && $_envd_st == [0-9] ]] || return 1
         [[ -n $_envd_dv && $_envd_dv == "$_envd_ver" ]] || return 1
         _envd_status=$_envd_st
         return 0 ;;
      *) return 1 ;;
    esac
  done
  return 1
}

_envd_say() {
  local _envd_m
  for _envd_m in "${_envd_msgs[@]}"; do builtin printf '%s\n' "$_envd_m" >&"$_envd_err"; done
}

# While the daemon works: this package's version, then the answer.
_envd_version
_envd_wait && _envd_reply || return 1
if [[ $1 == export ]]; then
  _envd_say
  builtin printf '%s' "$_envd_out"
  exit "$_envd_status"
fi

# ---- exec's checks after its answer -----------------------------------------------------
# What Node would fail to start (it says why, with its own status), looked up on the PATH
# the command gets; names bash would not export as they are. $1 DIR, $2 CMD.
_envd_exec_checked() {
  local _envd_i _envd_n _envd_path=${PATH-}
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
  _envd_say
  if [[ $_envd_status != 0 ]]; then
    builtin printf '%s\n' "envd: not running $2: the environment of $1 is not available" >&"$_envd_err"
    exit 1
  fi
}

# The command, run by bin/envd once it has parsed _envd_restore_env (after this file has
# returned: its stderr is the caller's again). Arguments: bin/envd's.
_envd_run() {
  local _envd_i _envd_n
  builtin umask "$_envd_um"
  _envd_restore_env
  for (( _envd_i = 0; _envd_i < ${#_envd_ops[@]}; _envd_i += 3 )); do
    _envd_n=${_envd_ops[_envd_i+1]}
    if [[ ${_envd_ops[_envd_i]} == u ]]; then builtin unset -v "$_envd_n"; else builtin export "$_envd_n=${_envd_ops[_envd_i+2]}"; fi
  done
  exec "${_envd_pre[@]}" "${@:3}"
}

_envd_exec_checked "${@:2}" || return 1
_envd_go=1
