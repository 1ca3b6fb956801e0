#!/bin/bash
# `envd export FORMAT [--budget MS]` and `envd exec DIR CMD...` asked of a running daemon,
# sourced by bin/envd (bash 4.4+) with _envd_root set. What the request needs comes first,
# as top-level code in the order it runs; the notes on it follow the request (bash parses
# as it runs: what comes after is parsed while the daemon works).
# shellcheck shell=bash disable=SC2154  # _envd_root, _envd_err, _envd_pre: set by bin/envd

# ---- the request (notes [1]-[6] below it) ------------------------------------------------
# [1] Format, flags, directory.
if [[ $1 == exec ]]; then
  builtin source "$_envd_root/bin/ask-daemon-exec.bash" && _envd_exec "${@:2}" || return 1
  _envd_fmt=bash _envd_fl=Etr _envd_cwd=$_envd_abs
else
  _envd_fl=Et _envd_cwd=$PWD
  if [[ $# == 4 && $3 == --budget && $4 == [0-9]* && $4 != *[!0-9]* && ${#4} -lt 10 ]]; then _envd_fl=Etb
  elif [[ $# != 2 ]]; then return 1; fi
  case $2 in
    json) _envd_fmt=bash _envd_fl=Etj${_envd_fl#Et} ;;
    bash|zsh|fish|elvish|tcsh|nushell) _envd_fmt=$2 ;;
    *) return 1 ;;
  esac
fi
[[ ${ENVD_NO_DAEMON-} != 1 ]] || return 1
# [2] Paths over PATH_MAX.
if (( ${#PWD} > 511 || ${#_envd_cwd} > 511 )); then
  _envd_fits() { local LC_ALL=C; (( ${#PWD} < 4096 && ${#_envd_cwd} < 4096 )); }
  _envd_fits || return 1
fi
# [3] The runtime dir.
# shellcheck source=shells/bash/run-dir.bash
builtin source "$_envd_root/shells/bash/run-dir.bash" || return 1
_envd_run_dir
[[ $_envd_run == /* && ! -L $_envd_run && -d $_envd_run && -O $_envd_run && ! -L $_envd_run/sh && -d $_envd_run/sh && -O $_envd_run/sh ]] || return 1
[[ -r /proc/$$/environ ]] || return 1
if [[ -t $_envd_err && -z ${NO_COLOR-} && ${TERM-} != dumb ]]; then _envd_fl+=c; fi
# [4] The id.
_envd_id=${EPOCHREALTIME-}
_envd_id=${_envd_id//[!0-9]/}
_envd_id=${_envd_id:-$RANDOM$RANDOM}$$
# [5] A pair.
_envd_lock='' _envd_pair=''
for _envd_i in 0 1 2 3 4 5 6 7; do
  _envd_b=$_envd_run/sh/door-$_envd_i
  [[ ! -s $_envd_b.lock ]] || continue
  [[ -f $_envd_b.lock && -O $_envd_b.lock && -p $_envd_b.req && -O $_envd_b.req && -p $_envd_b.res && -O $_envd_b.res && -f $_envd_b.env && -O $_envd_b.env ]] || break
  builtin printf '%s %s\n' "$$" "$_envd_id" >>"$_envd_b.lock" || continue
  _envd_l=''
  IFS= builtin read -r _envd_l < "$_envd_b.lock"
  if [[ $_envd_l == "$$ $_envd_id" ]]; then _envd_pair=$_envd_b _envd_lock=$_envd_b.lock; break; fi
done
if [[ -z $_envd_pair ]]; then builtin source "$_envd_root/bin/ask-daemon-pair.bash" || return 1; fi
exec {_envd_q}<>"$_envd_pair.req" {_envd_r}<>"$_envd_pair.res" || return 1
# [6] The environment, and the request.
if [[ -n $_envd_lock ]]; then builtin printf '#envd /proc %s %s\0#envd %s\0' "$$" "$_envd_q" "$_envd_id" 1<>"$_envd_pair.env" || return 1; fi
builtin printf '%s\0' ENVD-HOOK 1 "$_envd_id" "$_envd_fmt" "$_envd_fl" "$_envd_cwd" '' >&"$_envd_q" || return 1

# ---- notes on the request ---------------------------------------------------------------
# Export exits with the answer; exec returns 0 with _envd_go set (bin/envd then calls
# _envd_run). Anything else returns 1 before anything was printed or run: bin/envd hands
# over to Node (_envd_node frees a claimed pair and puts the umask back). stderr is
# /dev/null here; messages go to _envd_err, the caller's. The transport, checks and
# guarantees: docs/architecture.md, "The front door".
# [1] Flags: `E` the environment as /proc/$$/environ holds it; `t` the CLI's answer
#     (src/daemon/cli-answer.ts); `j` json; `b` --budget; `r` exec; `c` colour (the
#     caller's stderr is a terminal). exec's own checks are in bin/ask-daemon-exec.bash.
# [2] A program cannot name a working directory deeper than PATH_MAX (4096 bytes): the CLI
#     says so. A character is at most a few bytes: short paths are not counted (bytes are
#     counted only under LC_ALL=C, and switching the locale costs ~40 us).
# [3] The runtime dir as src/config/paths.ts computes it; used only when it and sh/ are
#     this user's and not links (builtin tests). Their modes take stat(1), a process: the
#     daemon checks them at every request on its door pairs (src/daemon/door-pairs.ts) and
#     refuses one that fails (the CLI then says what is wrong); bin/ask-daemon-pair.bash
#     checks them before this side makes a pair of its own.
# [4] Unique to this process and moment (a door pair serves one front door after another):
#     no answer to another request is ever taken for this one's. Short: `d ID` is read
#     with a timeout, which bash pays for by the byte.
# [5] A free pair of the daemon's door pairs (src/daemon/door-pairs.ts), each of its files
#     this user's. Its lock (made by the daemon, empty while the pair is free) is claimed
#     with a ticket, `PID ID`, appended (O_APPEND: appends never overwrite each other); the
#     pair is this process's when its ticket is the lock's first line. Another's ticket
#     there first: the next pair (a ticket left behind goes when the daemon empties the
#     lock). No file is created: creating one (noclobber's O_EXCL) cost ~0.25 ms on ext4,
#     a tenth of the whole request, and the daemon's unlink as much again. The umask is the
#     caller's (it must reach Node or exec's command as it is, and reading it costs a /proc
#     read). None free, or none made yet: a pair of this process's own
#     (bin/ask-daemon-pair.bash, parsed only then; it makes its files owner-only, copies
#     the environment in and sets _envd_pair).
# [6] On a door pair the daemon reads the environment from /proc/$$/environ itself
#     (src/daemon/door-env.ts), once it has seen this process hold the pair's `.req` open on
#     descriptor _envd_q.

# ---- while the daemon works -------------------------------------------------------------
# The daemon named in hook.pid is there (kill -0): one that is gone means Node now. One
# stopped or a zombie leaves the request unread, which the wait sees within 0.1 s.
_envd_pid=''
[[ -f $_envd_run/hook.pid && -O $_envd_run/hook.pid ]] && builtin read -r _envd_pid < "$_envd_run/hook.pid"
[[ -n $_envd_pid && $_envd_pid != *[!0-9]* ]] && builtin kill -0 "$_envd_pid" || return 1

# 0 when the daemon is running (not gone, a zombie or stopped: its state in /proc).
_envd_live() {
  local _envd_ps
  builtin kill -0 "$_envd_pid" || return 1
  if _envd_pstate "$_envd_pid"; then [[ $_envd_ps != [ZTtXx] ]] || return 1; fi
}

# The version this side speaks, as the CLI's speakingVersion: ENVD_TEST_VERSION, else the
# top-level "version" of this package's package.json (read at each call: an upgrade in
# place changes it under a running daemon); the build's one-line copy when it is newer.
_envd_ver=${ENVD_TEST_VERSION-}
if [[ -z $_envd_ver ]]; then
  if [[ $_envd_root/dist/front-door/version -nt $_envd_root/package.json ]]; then
    IFS= builtin read -r _envd_ver < "$_envd_root/dist/front-door/version"
  fi
  if [[ -z $_envd_ver ]]; then
    while IFS= builtin read -r _envd_l; do
      if [[ $_envd_l =~ \"version\":\ *\"([^\"]*)\" ]]; then _envd_ver=${BASH_REMATCH[1]}; break; fi
    done < "$_envd_root/package.json"
  fi
fi

# The line `d ID` that says the reply is there. Unread after 0.1 s: nobody is reading (a
# stopped daemon), unless the daemon is running (its state in /proc): then it may take up
# to 3 s more to read it (a busy machine). Read: the daemon is working on it; it is looked
# at every second and given up on once it is gone or stopped, or the pair is no longer
# there. The line is known to the byte (ASCII: as many characters as bytes in any
# locale): read as so many characters (-N), bash takes them in one read(2), where a line is
# read a byte at a time. Lines of earlier requests on this pair may come first: whole lines
# are dropped, and what is left (_envd_l) is never followed by fewer bytes than asked for,
# so no read asks past the awaited line's end. A timeout leaves what was read in the
# variable.
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
      # and only slow to get to it (a busy machine): then it has a few seconds more. Read,
      # and the pair gone: the daemon refused the request (one that does not know
      # `#envd /proc`, say) and dropped the pair.
      if builtin read -t 0 -u "$_envd_q"; then _envd_live || return 1; fi
      [[ /dev/fd/$_envd_r -ef $_envd_pair.res ]] || return 1
    else
      # The daemon dropped the pair (its files removed or made again): no answer will come.
      [[ /dev/fd/$_envd_r -ef $_envd_pair.res ]] || return 1
      _envd_live || return 1
      if builtin read -t 0 -u "$_envd_q"; then (( ++_envd_u < 3 )) || return 1; fi
    fi
  done
  exec {_envd_q}>&- {_envd_r}>&-
}

# ---- the answer ---------------------------------------------------------------------------
# In `.out`: `ENVD-HOOK 1 ID`, records that tile the rest exactly, `z ID`; `s` must be there
# with `o` (export) or `x`/`u` (exec) (a daemon that does not know flag `t` answers as to a
# hook: Node then), and `V` this package's version (another: the CLI decides, it replaces
# an older daemon). Once read, `-ID` appended to the lock frees the pair: the daemon
# empties it.
_envd_wait || return 1
mapfile -d '' -t _envd_rep < "$_envd_pair.out" || return 1
if [[ -n $_envd_lock ]]; then builtin printf -- '-%s\n' "$_envd_id" >>"$_envd_lock"; _envd_lock=''; fi
[[ ${_envd_rep[0]-} == ENVD-HOOK && ${_envd_rep[1]-} == 1 && ${_envd_rep[2]-} == "$_envd_id" ]] || return 1
_envd_c=${#_envd_rep[@]} _envd_msgs=() _envd_ops=()
# The usual shape of export's answer (a kept one, hook-replay.ts: `w`, `o`, `s`, `V`, `k`,
# then `g` and `z`) is taken as it is; any other is read record by record
# (bin/ask-daemon-reply.bash, parsed only then).
if [[ $_envd_c == 17 && ${_envd_rep[3]} == w && ${_envd_rep[5]} == o && ${_envd_rep[7]} == s && ${_envd_rep[9]} == V && ${_envd_rep[11]} == k && ${_envd_rep[13]} == g ]]; then
  _envd_out=${_envd_rep[6]} _envd_st=${_envd_rep[8]} _envd_dv=${_envd_rep[10]} _envd_i=15
else
  builtin source "$_envd_root/bin/ask-daemon-reply.bash" || return 1
fi
(( _envd_i + 2 == _envd_c )) && [[ ${_envd_rep[_envd_i]} == z && ${_envd_rep[_envd_i+1]} == "$_envd_id" && $_envd_st == [0-9] && -n $_envd_dv && $_envd_dv == "$_envd_ver" ]] || return 1
_envd_status=$_envd_st
if [[ $1 == export ]]; then
  for _envd_m in "${_envd_msgs[@]}"; do builtin printf '%s\n' "$_envd_m" >&"$_envd_err"; done
  builtin printf '%s' "$_envd_out"
  exit "$_envd_status"
fi
_envd_exec_checked "${@:2}" || return 1
_envd_go=1
