# shellcheck shell=bash
# envd prompt hook for bash (4.4 or later; PROMPT_COMMAND as an array needs 5.1).
# Load it from ~/.bashrc with:   eval "$(envd hook bash)"
#
# Every prompt: when $PWD and the daemon's generation number are what this shell saw
# last, return at once (builtins only: no process is started). After a cd: walk up
# looking for the marker files (.envrc...); the same file as last time and the same
# generation: return. Otherwise one round trip to the daemon over this shell's FIFO
# pair, builtins only; `envd export bash` when the daemon cannot be reached that way.
# Nothing in the runtime dir is touched before the dir is found safe (see "runtime dir").
# Answers are hook records (docs/architecture.md): every name is checked and values are
# applied with `export "NAME=VALUE"`, never evaluated as code.
#
# The same sections and function names are in ../zsh/hook.zsh and ../fish/hook.fish.
# Everything here is named _envd_*, locals too: an .envrc may export any name, and a
# local variable of that name would swallow the export.

# ---- settings -------------------------------------------------------------------------
# `envd hook bash` prints one line that sets _envd_bin (the envd binary) and _envd_kdef
# (the names to look for, from the config) and sources this file where it is.
: "${_envd_bin:=envd}"

# ---- paths ----------------------------------------------------------------------------
# The runtime dir (run-dir.bash, beside this file), once, when the hook is loaded (a later
# change of XDG_RUNTIME_DIR in this shell is not followed).
# shellcheck source=shells/bash/run-dir.bash
builtin source "${BASH_SOURCE[0]%/*}/run-dir.bash"
_envd_paths() {
  _envd_run=''
  _envd_run_dir
  _envd_genfile=$_envd_run/generation
  _envd_stamp=$_envd_run/sh/$$-stamp.stamp
  _envd_note=$_envd_run/sh/$$-seen.stamp
}
_envd_paths

# ---- runtime dir ----------------------------------------------------------------------
# The daemon's files are used only from a runtime dir that is this user's, 0700 and not a
# symlink, in a parent where no other user can rename it away (sticky like /tmp, or
# writable by its owner, this user or root, alone). Without XDG_RUNTIME_DIR it is
# $TMPDIR/envd-UID, which another user may have made first, with a listener of theirs in
# it: then this shell sends nothing there, reads nothing from it, creates nothing in it,
# and works without the daemon (`envd export` in-process), with one warning.
# Type, owner and symlink are builtin tests, made before every use. The modes need
# stat(1): one process when the dir is first seen (again after it was gone, or before a
# fallback while it is unsafe), never on an idle prompt. Between two looks nobody else can
# change anything: only the owner changes a dir's mode, and the parent's check means only
# this user or root can rename it.
_envd_rok=''                 # '' not checked, 1 safe, 0 unsafe by its modes, - unsafe now
_envd_rwhy=''                # what is wrong with it
: "${_envd_rwarned=}"        # warned that it is unsafe (once per shell)

# 0 when the runtime dir can be used now; 1 when it cannot (absent, or _envd_rok 0 or -).
_envd_rdir() {
  if [[ -L $_envd_run ]]; then _envd_rok=- _envd_rwhy='is a symlink'; return 1; fi
  if [[ ! -e $_envd_run ]]; then _envd_rok=''; return 1; fi
  if [[ ! -d $_envd_run ]]; then _envd_rok=- _envd_rwhy='is not a directory'; return 1; fi
  if [[ ! -O $_envd_run ]]; then _envd_rok=- _envd_rwhy='is owned by another user'; return 1; fi
  case $_envd_rok in
    1) return 0 ;;
    0) return 1 ;;
  esac
  _envd_rstat
}

# The modes of the runtime dir (not followed) and of its parent (followed), with one
# stat(1) (GNU, else BSD). Sets _envd_rok to 1 or 0.
_envd_rstat() {
  local _envd_p=${_envd_run%/*} _envd_o=''
  local -a _envd_a=()
  [[ $_envd_run == */* ]] || _envd_p=.
  _envd_p=${_envd_p:-/}/
  _envd_o=$(command stat -c '%u %a' -- "$_envd_run" "$_envd_p" 2>/dev/null ||
    command stat -f '%u %Mp%Lp' -- "$_envd_run" "$_envd_p" 2>/dev/null) || :
  IFS=$' \t\n' builtin read -r -d '' -a _envd_a <<<"$_envd_o" || :
  _envd_rok=0
  if (( ${#_envd_a[@]} != 4 )) || [[ ${_envd_a[*]} == *[!0-9\ ]* ]]; then
    _envd_rwhy='cannot be checked (stat failed)'
  elif (( (8#${_envd_a[1]} & 8#777) != 8#700 )); then
    _envd_rwhy="has mode ${_envd_a[1]}, not 700"
  elif [[ ${_envd_a[2]} != 0 && ! -O $_envd_p ]]; then
    _envd_rwhy='is in a directory owned by another user'
  elif (( !(8#${_envd_a[3]} & 8#1000) && (8#${_envd_a[3]} & 8#2) )) ||
    { (( !(8#${_envd_a[3]} & 8#1000) && (8#${_envd_a[3]} & 8#20) )) && [[ ! -G $_envd_p ]]; }; then
    # Not sticky, and writable by others (or by a group that is not this user's own).
    _envd_rwhy='is in a directory that other users can write to and that is not sticky'
  else
    _envd_rok=1 _envd_rwhy=''
    return 0
  fi
  return 1
}

# The one warning; the path is shown quoted (no raw control characters from its name).
_envd_rwarn() {
  local _envd_q
  [[ -z $_envd_rwarned ]] || return 0
  _envd_rwarned=1
  builtin printf -v _envd_q '%q' "$_envd_run"
  builtin printf '%s\n' "envd: runtime dir $_envd_q $_envd_rwhy; not using it: this shell works without the daemon (remove it, or set ENVD_RUNTIME_DIR to a private directory)" >&2
}

# ---- state ----------------------------------------------------------------------------
# What this shell saw last. Loading the hook again keeps it.
: "${_envd_pwd=}"            # $PWD at the last check
: "${_envd_gen=}"            # generation of the last answer
: "${_envd_noted=}"          # the generation read after the note was last written (see _envd_hook)
: "${_envd_found=-}"         # marker file found at the last check ('' none, '-' unknown)
: "${_envd_n=0}"             # request counter (ids)
: "${_envd_pair=}"           # this shell's FIFO pair, $RUNDIR/sh/<pid>-<token>
: "${_envd_regd=}"           # pid of the daemon the pair is registered with
: "${_envd_wait=200}"        # the daemon's budget in ms (from its `w` record)
: "${_envd_tw=0.700}"        # how long to wait for an answer being worked on: budget + 0.5 s
: "${_envd_warned=}"         # warned that the daemon does not answer
: "${_envd_try=}"            # what `envd export` is running for (see _envd_check)
: "${_envd_held=}"           # what it was interrupted for: not asked again until it changes
# The names to look for, from the config when the hook was printed (`k` records update them).
: "${_envd_kdef=.envrc}"
: "${_envd_kline=$_envd_kdef}"
[[ -n ${_envd_markers+set} ]] || IFS=: builtin read -r -a _envd_markers <<<"$_envd_kline"
# The files the loaded state depends on (the daemon's `f` records): one newer than the
# stamp, which this shell rewrites before each request, means ask at this prompt.
[[ -n ${_envd_deps+set} ]] || _envd_deps=()
# The leave plan that came with the last answer, its records as they came (`L TEXT`, `l
# NAME NOW THEN`): see _envd_leave.
[[ -n ${_envd_lv+set} ]] || _envd_lv=()
# The FIFO transport needs bash 4.4 (mapfile -d, {fd} redirections); older ones use the CLI.
_envd_fifos=''
if (( BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4) )); then _envd_fifos=1; fi

# ---- find -----------------------------------------------------------------------------
# _envd_f := the nearest marker file at or above $PWD ('' when there is none).
_envd_find() {
  local _envd_d=$PWD _envd_m
  _envd_f=''
  while :; do
    for _envd_m in "${_envd_markers[@]}"; do
      if [[ -f ${_envd_d%/}/$_envd_m ]]; then
        _envd_f=${_envd_d%/}/$_envd_m
        return 0
      fi
    done
    if [[ $_envd_d == / || $_envd_d != */* ]]; then return 0; fi
    _envd_d=${_envd_d%/*}
    [[ -n $_envd_d ]] || _envd_d=/
  done
}

# 0 when the functions of the next two sections are defined. Here they are; the build's
# copy (dist/front-door/hook.bash, src/shells/files.ts) leaves them out and defines this
# to source them from beside it when a prompt first has to ask, checking that they are
# of the same build: a new shell that never asks never parses them (~0.5 ms of CPU).
_envd_more() { :; }

# ---- ask ------------------------------------------------------------------------------
# The exported environment, for the daemon: `declare -px` (one builtin; a loop over the
# names costs ~10 µs a variable) into this shell's `.env` file, written in place (no
# O_TRUNC, which ext4 turns into a flush) and ended by `#envd ID`.
_envd_env() {
  { builtin declare -px && builtin printf '#envd %s\n' "$_envd_id"; } 1<>"$_envd_pair.env"
}

# _envd_line TIMEOUT: read `.res` lines until "d <our id>" (answers to older requests are
# skipped); 1 when none comes in time. A few stale lines are normal; a stream of them is
# not, and must not keep the prompt waiting. bash reads a pipe a byte at a time, and a
# timeout between two bytes leaves what was read in the variable: it is kept in _envd_lp
# and the line goes on at the next read (dropped, "d 1" would come as "1" and be missed).
_envd_line() {
  local _envd_k=0 _envd_rc
  while (( _envd_k++ < 256 )); do
    _envd_rc=0
    IFS= builtin read -r -t "$1" -u "$_envd_r" _envd_l || _envd_rc=$?
    if (( _envd_rc != 0 )); then
      (( _envd_rc > 128 )) && _envd_lp+=$_envd_l
      return 1
    fi
    _envd_l=$_envd_lp$_envd_l _envd_lp=''
    if [[ $_envd_l == "d $_envd_id" ]]; then return 0; fi
  done
  return 1
}

# 0 when the daemon (_envd_pid) is running or sleeping, by its state in /proc; 1 when it
# is stopped or a zombie, or there is no /proc to say.
_envd_running() {
  local _envd_ps
  _envd_pstate "$_envd_pid" && [[ $_envd_ps != [ZTtXx] ]]
}

# The request and the wait for its answer (fds _envd_q/_envd_r are open). 0: a valid
# answer in _envd_rep; 1: none in time (or not a valid one); 2: cannot ask; 3: the daemon
# wants the CLI.
_envd_talk() {
  local _envd_l='' _envd_lp='' _envd_fl=el _envd_pr=0
  # Our last request is still unread: the daemon is stopped (SIGSTOP) or stuck. Waiting
  # again would cost another timeout, and writing again could fill the pipe.
  if builtin read -t 0 -u "$_envd_q"; then return 1; fi
  if [[ $_envd_regd != "$_envd_pid" ]]; then
    # `<>` opens a FIFO without waiting for a reader; one short line is written at once.
    builtin printf '%s\n' "$_envd_pair.req" 1<>"$_envd_run/hook.fifo" || return 2
    _envd_regd=$_envd_pid
  fi
  _envd_id=$(( ++_envd_n ))
  _envd_env || return 2
  # Flag e: the environment is in the .env file; l: this hook takes leave plans. The
  # request is a few hundred bytes: it fits in the pipe whatever the daemon is doing, so
  # this write cannot block.
  if [[ -t 2 && -z ${NO_COLOR-} && ${TERM-} != dumb ]]; then _envd_fl=cel; fi
  # Flag n: entering (another file than at the last check): the daemon runs the file
  # rather than replaying a cached result, as direnv does on every entry.
  if [[ $_envd_f != "$_envd_found" ]]; then _envd_fl+=n; fi
  builtin printf '%s\0' ENVD-HOOK 1 "$_envd_id" bash "$_envd_fl" "$PWD" '' >&"$_envd_q" || return 2
  # The answer is in .out once `d ID` arrives. A stopped daemon is told from a slow answer
  # by whether it has read the request: still unread after 0.1 s, nobody is reading it;
  # read, the answer comes within the daemon's budget (its `w`) and a margin.
  if ! _envd_line 0.1; then
    # Unread, and the daemon is not running (stopped, a zombie): nobody will read it.
    # Running, it is only slow to get to it (a busy machine): it gets the same wait.
    if builtin read -t 0 -u "$_envd_q"; then _envd_running || return 1; fi
    _envd_line "$_envd_tw" || return 1
  fi
  mapfile -d '' -t _envd_rep < "$_envd_pair.out" || return 1
  _envd_parse || _envd_pr=$?
  case $_envd_pr in
    0|3) return "$_envd_pr" ;;
  esac
  # Not an answer to this request, or cut off: start over with a new pair next time.
  _envd_pair=''
  return 1
}

# One round trip over this shell's FIFO pair. 0: a valid answer (_envd_parse); 1: none
# in time; 2: this transport is not available here; 3: the daemon wants the CLI.
_envd_ask() {
  local _envd_pid='' _envd_q _envd_r _envd_rc=0 _envd_ps=''
  [[ -n $_envd_fifos && ${ENVD_NO_DAEMON-} != 1 ]] || return 2
  _envd_rdir || return 2
  [[ -p $_envd_run/hook.fifo && -f $_envd_run/hook.pid ]] || return 2
  IFS= builtin read -r _envd_pid < "$_envd_run/hook.pid" || :
  # A daemon that is gone cannot answer: `envd export` starts one (kill -0 is a builtin).
  [[ -n $_envd_pid && $_envd_pid != *[!0-9]* ]] || return 2
  builtin kill -0 "$_envd_pid" 2>/dev/null || return 2
  if [[ -z $_envd_pair || $_envd_pair != "$_envd_run/sh/"* ||
    ! -p $_envd_pair.req || ! -p $_envd_pair.res || ! -f $_envd_pair.env ]]; then
    # Once per shell (and after the pair was removed): the only process this path starts.
    # Owner-only whatever the umask, and new (noclobber: a file that is there already is
    # not taken over). The .env file is made here too: bash's `1<>` would make it with
    # the umask's mode.
    # The stamp is made in the same process when it is missing (_envd_touch leaves it here).
    _envd_pair=$_envd_run/sh/$$-${EPOCHREALTIME//[!0-9]/}$RANDOM
    # So is the note (_envd_hook), which no generation read has vouched for yet.
    _envd_noted=''
    command sh -c 'umask 077 && set -C && : >"$1.env" && mkfifo -m 600 -- "$1.req" "$1.res" &&
      { [ -f "$2" ] || { rm -f -- "$2"; : >"$2"; }; } && { [ -f "$3" ] || { rm -f -- "$3"; : >"$3"; }; }' \
      sh "$_envd_pair" "$_envd_stamp" "$_envd_note" 2>/dev/null || { _envd_pair=''; return 2; }
    _envd_regd=''
  fi
  exec {_envd_q}<>"$_envd_pair.req" || return 2
  exec {_envd_r}<>"$_envd_pair.res" || { exec {_envd_q}>&-; return 2; }
  _envd_talk || _envd_rc=$?
  exec {_envd_q}>&- {_envd_r}>&-
  if (( _envd_rc == 1 )); then
    # No answer: register again next time (a daemon that dropped the pair reopens it).
    _envd_regd=''
    # Killed but not yet reaped (a zombie) passes kill -0; Linux says so in /proc. Then
    # `envd export` (which starts a new daemon) rather than a warning.
    if _envd_pstate "$_envd_pid" && [[ $_envd_ps == Z ]]; then _envd_rc=2; fi
  fi
  return "$_envd_rc"
}

# ---- apply ----------------------------------------------------------------------------
# Check the reply in _envd_rep without changing anything: `ENVD-HOOK 1 ID`, records that
# tile the rest exactly, `z ID`. 0 valid, 1 malformed, 3 the daemon wants the CLI (`v`),
# 4 cut off (what is there so far is a valid beginning).
_envd_parse() {
  local _envd_i=3 _envd_c=${#_envd_rep[@]}
  (( _envd_c >= 3 )) || return 4
  [[ ${_envd_rep[0]} == ENVD-HOOK && ${_envd_rep[1]} == 1 && ${_envd_rep[2]} == "$_envd_id" ]] || return 1
  while (( _envd_i < _envd_c )); do
    case ${_envd_rep[_envd_i]} in
      x) (( _envd_i += 3 )) ;;
      # A leave plan: its L and l records are checked when it is used (_envd_leave).
      P) [[ ${_envd_rep[_envd_i+1]-} == [0-9]* && ${_envd_rep[_envd_i+1]} != *[!0-9]* ]] && (( _envd_i + 2 + _envd_rep[_envd_i+1] < _envd_c )) || return 1
         (( _envd_i += 2 + _envd_rep[_envd_i+1] )) ;;
      p) (( _envd_i += 1 )) ;;
      [umkgwf]) (( _envd_i += 2 )) ;;
      v) return 3 ;;
      z)
        (( _envd_i + 1 < _envd_c )) || return 4
        [[ ${_envd_rep[_envd_i+1]} == "$_envd_id" ]] || return 1
        return 0 ;;
      *) return 1 ;;
    esac
  done
  return 4
}

# Apply a reply _envd_parse found valid. Nothing before this point changed the shell.
# Names are checked with plain patterns (an extended one costs bash several times as much).
_envd_apply() {
  local _envd_i=3 _envd_y _envd_rest _envd_ls=-1 _envd_le=0
  trap -- '' INT
  while :; do
    _envd_y=${_envd_rep[_envd_i+1]-}
    case ${_envd_rep[_envd_i]} in
      x)
        if [[ $_envd_y == [A-Za-z_]* && $_envd_y != *[!A-Za-z0-9_]* && $_envd_y != _envd_* ]]; then builtin export "$_envd_y=${_envd_rep[_envd_i+2]}"; fi
        (( _envd_i += 3 )) ;;
      u)
        if [[ $_envd_y == [A-Za-z_]* && $_envd_y != *[!A-Za-z0-9_]* && $_envd_y != _envd_* ]]; then builtin unset -v "$_envd_y"; fi
        (( _envd_i += 2 )) ;;
      m) builtin printf '%s\n' "$_envd_y" >&2; (( _envd_i += 2 )) ;;
      g) _envd_rg=$_envd_y; (( _envd_i += 2 )) ;;
      k) _envd_rk=$_envd_y; (( _envd_i += 2 )) ;;
      f) _envd_rf+=("$_envd_y"); (( _envd_i += 2 )) ;;
      # The leave plan: its records, taken as they are once the loop is done (checked when
      # used).
      P) (( _envd_ls = _envd_i + 2, _envd_le = _envd_ls + _envd_y, _envd_i = _envd_le )) ;;
      w)
        if [[ -n $_envd_y && $_envd_y != *[!0-9]* && $_envd_y != "$_envd_wait" ]]; then
          _envd_wait=$_envd_y
          builtin printf -v _envd_tw '%d.%03d' $(( (_envd_y + 500) / 1000 )) $(( (_envd_y + 500) % 1000 ))
        fi
        (( _envd_i += 2 )) ;;
      p) (( _envd_i += 1 )) ;;
      *) break ;;
    esac
  done
  trap -- - INT
  _envd_lv=()
  if (( _envd_ls >= 0 )); then _envd_lv=("${_envd_rep[@]:_envd_ls:_envd_le-_envd_ls}"); fi
  if [[ -n $_envd_rk && $_envd_rk != "$_envd_kline" ]]; then
    _envd_kline=$_envd_rk
    _envd_markers=()
    _envd_rest=$_envd_rk:
    while [[ $_envd_rest == *:* ]]; do
      [[ -z ${_envd_rest%%:*} ]] || _envd_markers+=("${_envd_rest%%:*}")
      _envd_rest=${_envd_rest#*:}
    done
  fi
}

# The daemon did not answer in time: said once, until an answer comes.
_envd_unanswered() {
  if [[ -z $_envd_warned ]]; then
    _envd_warned=1
    builtin printf '%s\n' "envd: the daemon did not answer in time; environment unchanged (trying again at the next prompt)" >&2
  fi
}

# The stamp, rewritten before each request: whatever is written after it (the next
# command's edits) is newer. `>|` whatever noclobber says; a builtin redirection. Made
# owner-only whatever the umask, once per shell (one process; never on an idle prompt).
_envd_touch() {
  [[ -d $_envd_run/sh && ! -L $_envd_run/sh ]] || return 0
  if [[ -f $_envd_stamp && ! -L $_envd_stamp && -O $_envd_stamp ]]; then
    : 2>/dev/null >|"$_envd_stamp" || :
  elif [[ -z $_envd_pair || ! -p $_envd_pair.req ]]; then
    # A new pair is about to be made: that one process makes the stamp too.
    :
  else
    _envd_noted=''
    command sh -c 'umask 077 && for f; do rm -f -- "$f" && : >"$f"; done' sh "$_envd_stamp" "$_envd_note" 2>/dev/null || :
  fi
}

# The leave plan: what the daemon answers a shell in the state its last answer left this
# one in, on leaving for a directory where no env file is found (src/daemon/hook-session.ts
# leaveRecords). That answer depends only on the names in the plan (the state variables,
# the names the state changed) and on the config (a dependency: newer than the stamp, the
# daemon is asked). So while every one of them is exported with the value it had then (or
# not exported, `-`), applying the plan here is applying that answer. 0: applied; 1:
# something differs (a value changed by hand, another hook's state): ask.
_envd_leave() {
  local _envd_i _envd_n _envd_w _envd_c=${#_envd_lv[@]}
  for (( _envd_i = 0; _envd_i < _envd_c; _envd_i += 4 )); do
    case ${_envd_lv[_envd_i]} in
      L) (( _envd_i -= 2 )); continue ;;
      l) ;;
      *) return 1 ;;
    esac
    _envd_n=${_envd_lv[_envd_i+1]} _envd_w=${_envd_lv[_envd_i+2]}
    [[ $_envd_n == [A-Za-z_]* && $_envd_n != *[!A-Za-z0-9_]* && $_envd_n != _envd_* ]] || return 1
    if [[ $_envd_w == - ]]; then
      [[ ${!_envd_n@a} != *x* ]] || return 1
    else
      [[ ${!_envd_n@a} == *x* && ${!_envd_n} == "${_envd_w#=}" ]] || return 1
    fi
  done
  trap -- '' INT
  for (( _envd_i = 0; _envd_i < _envd_c; _envd_i += 4 )); do
    if [[ ${_envd_lv[_envd_i]} == L ]]; then
      builtin printf '%s\n' "${_envd_lv[_envd_i+1]}" >&2
      (( _envd_i -= 2 ))
      continue
    fi
    _envd_n=${_envd_lv[_envd_i+1]} _envd_w=${_envd_lv[_envd_i+3]}
    case $_envd_w in
      -) builtin unset -v "$_envd_n" ;;
      =*) builtin export "$_envd_n=${_envd_w#=}" ;;
    esac
  done
  trap -- - INT
  _envd_lv=()
}

# ---- fallback -------------------------------------------------------------------------
# `envd export bash` (a Node process: ~50 ms; it starts the daemon when none runs). Its
# output is shell code whose every value is quoted by envd's proven quoter.
# With an unsafe runtime dir, in-process (ENVD_NO_DAEMON=1 for that command: the CLI
# then does not touch the dir, nor warn about it at every prompt; this shell warned once).
_envd_fallback() {
  local _envd_o _envd_st=0 _envd_b=(--budget "$_envd_wait")
  # Found unsafe by its modes: this path starts a process anyway, so look again (it may
  # have been fixed).
  if [[ $_envd_rok == 0 ]]; then _envd_rok=''; _envd_rdir || :; fi
  # In-process nothing would finish a slow evaluation later: wait.
  if [[ ${ENVD_NO_DAEMON-} == 1 || $_envd_rok == [0-] ]]; then _envd_b=(); fi
  _envd_try=$_envd_key
  # The environment is the CLI's to change now: no plan vouches for it any more.
  _envd_lv=()
  if [[ $_envd_rok == [0-] ]]; then
    _envd_rwarn
    _envd_o=$(ENVD_NO_DAEMON=1 "$_envd_bin" export bash) || _envd_st=$?
  else
    _envd_o=$("$_envd_bin" export bash "${_envd_b[@]}") || _envd_st=$?
  fi
  # Killed by a signal (Ctrl-C): left noted, as when this function is aborted.
  (( _envd_st > 128 )) || _envd_try=''
  if (( _envd_st <= 1 )) && [[ -n $_envd_o ]]; then
    trap -- '' INT
    builtin eval "$_envd_o"
    trap -- - INT
  fi
  _envd_rg=''
  # The CLI may just have made the runtime dir (and started the daemon): check it first.
  if _envd_rdir && [[ -r $_envd_genfile ]]; then IFS= builtin read -r _envd_rg < "$_envd_genfile" || :; fi
}

# ---- hook -----------------------------------------------------------------------------
# _envd_fresh: 0 when no file the loaded state depends on may have changed since the
# stamp (an edit, `envd allow`, `envd reload`...): builtin tests, a few stats, no process.
# Made by _envd_deps_set when the list changes, each test written out in one [[ ]]:
# a loop over the names cost ~7 µs more at every prompt. A file that is there must be
# older than the stamp ("the stamp is newer", not "the file is not newer": zsh and fish
# compare whole seconds, so a write in the stamp's own second counts as a change, asked
# once more once the second is over and the stamp moves past it). One that was not there
# (a watch_file target, a config file) must still not be (one stat where -nt takes two;
# and it counts when it appears, whatever its mtime). Names are quoted with %q.
# _envd_deps_set FILE...: _envd_deps := the files, and _envd_fresh made for them.
_envd_deps_set() {
  local _envd_x _envd_q _envd_c=''
  _envd_deps=("$@")
  for _envd_x; do
    builtin printf -v _envd_q '%q' "$_envd_x"
    if [[ -e $_envd_x || -L $_envd_x ]]; then _envd_c+=" && \$_envd_stamp -nt $_envd_q"; else _envd_c+=" && ! -e $_envd_q"; fi
  done
  if [[ -z $_envd_c ]]; then
    _envd_fresh() { return 0; }
  else
    builtin eval "_envd_fresh() { [[ ${_envd_c# && } ]]; }"
  fi
}

# $1: the generation just read; $2: 1 when a dependency is newer than the stamp. Decide
# with builtins whether to ask; ask; apply.
_envd_check() {
  local _envd_f _envd_id='' _envd_rc=0 _envd_rg='' _envd_rk='' _envd_key
  local -a _envd_rep=() _envd_rf=()
  _envd_find
  # Ctrl-C during `envd export` (a slow .envrc without a daemon) aborts this function,
  # and the next prompt would start the same wait again: the prompt would never come
  # back. So what it ran for is noted before, and found still there after an interrupt:
  # hold until the directory, the file or the generation changes.
  _envd_key=$PWD$'\n'$_envd_f$'\n'$1
  if [[ $_envd_try == "$_envd_key" ]]; then
    _envd_try='' _envd_held=$_envd_key
    builtin printf '%s\n' "envd: interrupted; environment unchanged here (cd in again to retry)" >&2
  fi
  if [[ $_envd_held == "$_envd_key" ]]; then
    _envd_pwd=$PWD _envd_gen=$1 _envd_found=$_envd_f
    return 0
  fi
  _envd_held=''
  # Without a daemon (ENVD_NO_DAEMON=1, or an unsafe runtime dir) there is no generation
  # to say that an approval or an edit happened: inside a project every prompt asks
  # `envd export`, as direnv does.
  # Moving within the loaded project (same file) does not run it again, as direnv.
  if [[ -z ${2-} && $_envd_f == "$_envd_found" && $1 == "$_envd_gen" && ${ENVD_NO_DAEMON-} != 1 && $_envd_rok != [0-] ]] ||
    [[ -z $_envd_f && -z ${DIRENV_DIR-} && -z ${DIRENV_FILE-} && -z ${ENVD_DIFF-} ]]; then
    _envd_pwd=$PWD _envd_gen=$1 _envd_found=$_envd_f
    return 0
  fi
  # Leaving for a directory without an env file, nothing newer than the stamp: the last
  # answer's leave plan, when the shell is still as it left it (no process, no request).
  if [[ -z $_envd_f && -z ${2-} ]] && (( ${#_envd_lv[@]} )) && _envd_more && _envd_leave; then
    _envd_deps_set
    _envd_pwd=$PWD _envd_gen=$1 _envd_found=''
    return 0
  fi
  _envd_deps_set
  # The rest of the hook, if not loaded yet; without it (a package changed under this
  # shell), `envd export bash` answers.
  if _envd_more; then
    _envd_rdir && _envd_touch
    _envd_ask || _envd_rc=$?
  else
    _envd_rc=2
  fi
  case $_envd_rc in
    0) _envd_apply; _envd_warned=''; _envd_deps_set "${_envd_rf[@]}" ;;
    # Asked again at the next prompt (the stamp has moved past what was not seen yet).
    1) _envd_unanswered; _envd_gen=-; return 0 ;;
    # `v`: this daemon will not serve this shell (another HOME or config, another hook
    # version). Its generation says nothing about this shell's files (its own `envd
    # allow` does not move it), so inside a project the next prompt asks again.
    3) _envd_fallback; _envd_rg='' ;;
    *) _envd_fallback ;;
  esac
  _envd_pwd=$PWD _envd_gen=$_envd_rg _envd_found=$_envd_f
}

# The prompt hook. Keeps $? for the prompt and for the rest of PROMPT_COMMAND.
#
# The idle prompt (same $PWD, nothing changed) reads no file: the note is rewritten just
# before the generation file is read, and when what was read is the generation applied
# here, the note vouches for it, since a later write of the generation file leaves an
# mtime no older than the note's (src/daemon/generation.ts). So while the note is newer
# and no dependency is newer than the stamp, stat calls alone decide. Nothing is opened
# on that path, so it needs no runtime-dir check: every read below makes one first. (bash's
# -nt is also true when the generation file is missing: only a hand could remove it and
# leave the note, and the daemon's next bump writes it anew, newer than the note.)
_envd_hook() {
  local _envd_s=$? _envd_o=''
  if [[ $PWD == "$_envd_pwd" && -n $_envd_noted && $_envd_noted == "$_envd_gen" && ${ENVD_NO_DAEMON-} != 1 &&
    $_envd_note -nt $_envd_genfile ]] && _envd_fresh; then
    return "$_envd_s"
  fi
  local _envd_g=''
  _envd_noted=''
  # The generation file only from a safe runtime dir (one of another user's could be a
  # FIFO that never opens).
  if _envd_rdir; then
    if [[ -r $_envd_genfile ]]; then
      if [[ -f $_envd_note && ! -L $_envd_note && -O $_envd_note ]] && : 2>/dev/null >|"$_envd_note"; then _envd_o=n; fi
      IFS= builtin read -r _envd_g < "$_envd_genfile" || :
      if [[ $_envd_o == n && $_envd_g == "$_envd_gen" ]]; then _envd_noted=$_envd_g; fi
      _envd_o=''
    fi
    _envd_fresh || _envd_o=1
  fi
  if [[ -n $_envd_o || $PWD != "$_envd_pwd" || $_envd_g != "$_envd_gen" || ${ENVD_NO_DAEMON-} == 1 || $_envd_rok == [0-] ]]; then
    # Called in a || list: errexit (set -e) is off inside, whatever the user set.
    _envd_noted=''
    _envd_check "$_envd_g" "$_envd_o" || :
  fi
  return "$_envd_s"
}

# The check for the files this shell has (the hook loaded again) or for none. The count
# first: an empty array is "unbound" to bash before 4.4 under `set -u`.
if (( ${#_envd_deps[@]} )); then _envd_deps_set "${_envd_deps[@]}"; else _envd_deps_set; fi

# ---- register -------------------------------------------------------------------------
# First in PROMPT_COMMAND (so later prompt commands see the new environment), once.
_envd_register() {
  local _envd_e
  if [[ -n ${PROMPT_COMMAND+set} && ${PROMPT_COMMAND@a} == *a* ]]; then
    for _envd_e in "${PROMPT_COMMAND[@]}"; do
      if [[ $_envd_e == _envd_hook ]]; then return 0; fi
    done
    PROMPT_COMMAND=(_envd_hook "${PROMPT_COMMAND[@]}")
  elif [[ ${PROMPT_COMMAND-} != *_envd_hook* ]]; then
    # shellcheck disable=SC2128,SC2178 # a string here (the array case is above)
    PROMPT_COMMAND="_envd_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
  fi
}
if [[ $- == *i* ]]; then _envd_register; fi
