# envd prompt hook for zsh (5.1 or later).
# Load it from ~/.zshrc with:   eval "$(envd hook zsh)"
#
# Every prompt: when $PWD and the daemon's generation number are what this shell saw
# last, return at once (builtins only: no process is started). After a cd: walk up
# looking for the marker files (.envrc...); the same file as last time and the same
# generation: return. Otherwise one round trip to the daemon's Unix socket with zsocket
# (zsh/net/socket, no process; the socket stays open for the next prompt); `envd export
# zsh` when the daemon cannot be reached.
# Nothing in the runtime dir is touched before the dir is found safe (see "runtime dir").
# Answers are hook records (docs/architecture.md): every name is checked and values are
# applied with `export "NAME=VALUE"`, never evaluated as code.
#
# The same sections and function names are in ../bash/hook.bash and ../fish/hook.fish.
# Everything here is named _envd_*, locals too: an .envrc may export any name, and a
# local variable of that name would swallow the export.

# ---- settings -------------------------------------------------------------------------
# `envd hook zsh` prints one line that sets _envd_bin (the envd binary) and _envd_kdef
# (the names to look for, from the config) and sources this file where it is.
typeset -g _envd_bin=${_envd_bin:-envd}

# ---- paths ----------------------------------------------------------------------------
# The runtime dir exactly as src/config/paths.ts computes it, once, when the hook is
# loaded (a later change of XDG_RUNTIME_DIR in this shell is not followed).
_envd_paths() {
  emulate -L zsh
  local _envd_t
  if [[ -n ${ENVD_RUNTIME_DIR-} ]]; then
    typeset -g _envd_run=$ENVD_RUNTIME_DIR
  elif [[ -n ${XDG_RUNTIME_DIR-} ]]; then
    typeset -g _envd_run=${XDG_RUNTIME_DIR%/}/envd
  else
    _envd_t=${TMPDIR:-${TMP:-${TEMP:-/tmp}}}
    typeset -g _envd_run=${_envd_t%/}/envd-$UID
  fi
  typeset -g _envd_genfile=$_envd_run/generation _envd_sock=$_envd_run/daemon.sock
  typeset -g _envd_stamp=$_envd_run/sh/$$-stamp.stamp _envd_note=$_envd_run/sh/$$-seen.stamp
}
_envd_paths

# ---- state ----------------------------------------------------------------------------
# What this shell saw last. Loading the hook again keeps it.
typeset -g _envd_pwd=${_envd_pwd-}            # $PWD at the last check
typeset -g _envd_gen=${_envd_gen-}            # generation of the last answer
typeset -g _envd_noted=${_envd_noted-}        # the generation read after the note was last written (see _envd_hook)
typeset -g _envd_found=${_envd_found--}       # marker file found at the last check ('' none, '-' unknown)
typeset -g _envd_n=${_envd_n-0}               # request counter (ids)
typeset -g _envd_wait=${_envd_wait-200}       # the daemon's budget in ms (from its `w` record)
typeset -g _envd_warned=${_envd_warned-}      # warned that the daemon does not answer
typeset -g _envd_try=${_envd_try-}            # what `envd export` is running for (see _envd_check)
typeset -g _envd_held=${_envd_held-}          # what it was interrupted for: not asked again until it changes
typeset -g _envd_skip=                        # the cd just now was not answered: skip this prompt
# The names to look for, from the config when the hook was printed (`k` records update them).
typeset -g _envd_kdef=${_envd_kdef-.envrc}
typeset -g _envd_kline=${_envd_kline-$_envd_kdef}
(( ${+_envd_markers} )) || typeset -ga _envd_markers=(${(s.:.)_envd_kline})
# The files the loaded state depends on (the daemon's `f` records): one newer than the
# stamp, which this shell rewrites before each request, means ask at this prompt.
(( ${+_envd_deps} )) || typeset -ga _envd_deps=()
# The leave plan that came with the last answer, its records as they came (`L TEXT`, `l
# NAME NOW THEN`): see _envd_leave.
(( ${+_envd_lv} )) || typeset -ga _envd_lv=()
# zsocket, sysread and $EPOCHREALTIME: modules, loaded once (no process). zstat alone
# from zsh/stat (the module's `stat` builtin would shadow the command).
typeset -g _envd_sockok= _envd_zstat=
zmodload zsh/net/socket zsh/system zsh/datetime zsh/parameter 2>/dev/null && _envd_sockok=1
zmodload -F zsh/stat b:zstat 2>/dev/null && _envd_zstat=1

# ---- runtime dir ----------------------------------------------------------------------
# The daemon's files are used only from a runtime dir that is this user's, 0700 and not a
# symlink, in a parent where no other user can rename it away (sticky like /tmp, or
# writable by its owner, this user or root, alone). Without XDG_RUNTIME_DIR it is
# $TMPDIR/envd-UID, which another user may have made first, with a listener of theirs in
# it: then this shell sends nothing there, reads nothing from it, and works without the
# daemon (`envd export` in-process), with one warning. The owner and symlink tests run
# before every use; the modes (zstat, a builtin; stat(1) where zsh/stat is missing) once,
# and again after the directory disappeared: only its owner can change its mode, and the
# parent's check keeps others from renaming it away (docs/security.md).
typeset -g _envd_rok=                   # '' not checked, 1 safe, 0 unsafe by its modes, - unsafe now
typeset -g _envd_rwhy=                  # what is wrong with it
typeset -g _envd_rwarned=${_envd_rwarned-} # warned that it is unsafe (once per shell)

# 0 when the runtime dir can be used now; 1 when it cannot (absent, or _envd_rok 0 or -).
_envd_rdir() {
  emulate -L zsh
  if [[ -L $_envd_run ]]; then _envd_rok=- _envd_rwhy='is a symlink'; return 1; fi
  if [[ ! -e $_envd_run ]]; then _envd_rok=; return 1; fi
  if [[ ! -d $_envd_run ]]; then _envd_rok=- _envd_rwhy='is not a directory'; return 1; fi
  if [[ ! -O $_envd_run ]]; then _envd_rok=- _envd_rwhy='is owned by another user'; return 1; fi
  case $_envd_rok in
    (1) return 0 ;;
    (0) return 1 ;;
  esac
  _envd_rstat
}

# The modes of the runtime dir (not followed) and of its parent (followed). Sets
# _envd_rok to 1 or 0.
_envd_rstat() {
  emulate -L zsh
  local _envd_p=${_envd_run%/*}
  local -a _envd_a
  local -A _envd_h
  [[ $_envd_run == */* ]] || _envd_p=.
  _envd_p=${_envd_p:-/}/
  if [[ -n $_envd_zstat ]]; then
    zstat -L -H _envd_h -- $_envd_run 2>/dev/null && _envd_a=($_envd_h[uid] $(( [#8] _envd_h[mode] & 8#7777 )))
    zstat -H _envd_h -- $_envd_p 2>/dev/null && _envd_a+=($_envd_h[uid] $(( [#8] _envd_h[mode] & 8#7777 )))
    _envd_a=(${_envd_a#8\#})
  else
    _envd_a=($(command stat -c '%u %a' -- $_envd_run $_envd_p 2>/dev/null ||
      command stat -f '%u %Mp%Lp' -- $_envd_run $_envd_p 2>/dev/null))
  fi
  _envd_rok=0
  if (( $#_envd_a != 4 )) || [[ $_envd_a == *[^0-9\ ]* ]]; then
    _envd_rwhy='cannot be checked (stat failed)'
  elif (( (8#$_envd_a[2] & 8#777) != 8#700 )); then
    _envd_rwhy="has mode $_envd_a[2], not 700"
  elif [[ $_envd_a[3] != 0 && ! -O $_envd_p ]]; then
    _envd_rwhy='is in a directory owned by another user'
  elif (( !(8#$_envd_a[4] & 8#1000) && (8#$_envd_a[4] & 8#2) )) ||
    { (( !(8#$_envd_a[4] & 8#1000) && (8#$_envd_a[4] & 8#20) )) && [[ ! -G $_envd_p ]] }; then
    # Not sticky, and writable by others (or by a group that is not this user's own).
    _envd_rwhy='is in a directory that other users can write to and that is not sticky'
  else
    _envd_rok=1 _envd_rwhy=
    return 0
  fi
  return 1
}

# The one warning; the path is shown quoted (no raw control characters from its name).
_envd_rwarn() {
  emulate -L zsh
  [[ -z $_envd_rwarned ]] || return 0
  _envd_rwarned=1
  print -r -- "envd: runtime dir ${(q+)_envd_run} $_envd_rwhy; not using it: this shell works without the daemon (remove it, or set ENVD_RUNTIME_DIR to a private directory)" >&2
}

# ---- find -----------------------------------------------------------------------------
# _envd_f := the nearest marker file at or above $PWD ('' when there is none).
_envd_find() {
  emulate -L zsh
  local _envd_d=$PWD _envd_m
  _envd_f=
  while :; do
    for _envd_m in $_envd_markers; do
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

# ---- ask ------------------------------------------------------------------------------
# _envd_kv := NAME VALUE ... of the exported environment.
_envd_env() {
  emulate -L zsh
  local _envd_k
  _envd_kv=()
  for _envd_k in ${(k)parameters[(R)*export*]}; do
    [[ $_envd_k == _envd_* || $_envd_k != [A-Za-z_]* ]] && continue
    _envd_kv+=("$_envd_k" "${(P)_envd_k}")
  done
}

# 0 when the daemon named by hook.pid is running or sleeping, by its state in /proc
# (builtins only); 1 when it is stopped, a zombie or not to be found (no /proc either).
_envd_running() {
  local _envd_p= _envd_s=
  [[ -f $_envd_run/hook.pid && ! -L $_envd_run/hook.pid ]] || return 1
  IFS= read -r _envd_p < $_envd_run/hook.pid 2>/dev/null || :
  [[ $_envd_p == <1-> && -r /proc/$_envd_p/stat ]] || return 1
  IFS= read -r _envd_s < /proc/$_envd_p/stat 2>/dev/null || return 1
  [[ ${${_envd_s##*) }[1]} == [RSD] ]]
}

# Read until the acknowledgement (`ENVD-HOOK 1 ID w MS`: five fields) or a whole answer
# is in _envd_buf; 1 when the deadline _envd_dl passes, 2 when the daemon hangs up.
_envd_recv() {
  emulate -L zsh
  # The first read of 8 KiB (a prompt's answer fits): zsh takes a larger buffer from a
  # heap of its own, an mmap and a munmap per read; a longer reply is read 64 KiB at a time.
  local _envd_c _envd_slow= _envd_rs=8192
  local -F _envd_left
  while :; do
    if [[ $1 == ack ]]; then
      [[ $_envd_buf == *$'\0'*$'\0'*$'\0'*$'\0'*$'\0'* ]] && return 0
    elif [[ $_envd_buf == *$'\0'z$'\0'$_envd_id$'\0' ]]; then
      # Ends like an answer; whether `z` is at a record boundary only parsing says.
      _envd_rep=("${(@0)_envd_buf}")
      _envd_rep[-1]=()
      _envd_parse
      _envd_prc=$?
      (( _envd_prc != 4 )) && return 0
    fi
    (( _envd_left = _envd_dl - EPOCHREALTIME ))
    if (( _envd_left <= 0 )); then
      # No acknowledgement within 0.1 s. A daemon that is stopped (SIGSTOP) or gone is not
      # waited for; one that is running is only slow (a busy machine, a daemon just
      # started): it gets its budget and a margin, once, as an answer being worked on does.
      [[ $1 == ack && -z $_envd_slow ]] && _envd_running || return 1
      _envd_slow=1
      (( _envd_dl = EPOCHREALTIME + (_envd_wait + 500) / 1000.0 ))
      continue
    fi
    sysread -t $_envd_left -i $_envd_fd -s $_envd_rs _envd_c
    case $? in
      (0) _envd_buf+=$_envd_c _envd_rs=65536 ;;
      # Timed out: the deadline decides, above.
      (4) ;;
      # Closed or reset: that daemon is gone (killed, restarting); `envd export` takes over.
      (*) return 2 ;;
    esac
  done
}

# The request and the wait for its answer (socket fd _envd_fd is open). 0: a complete
# answer, parsed; 1: none in time (or not a valid one); 3: the daemon wants the CLI.
_envd_talk() {
  emulate -L zsh
  setopt local_traps
  local _envd_fl= _envd_ms _envd_buf= _envd_body _envd_prc=4
  local -a _envd_head
  local -F _envd_dl
  # A daemon that closed the socket must not kill this shell with SIGPIPE.
  trap '' PIPE
  _envd_env
  _envd_id=$(( ++_envd_n ))
  # Flag l: this hook takes leave plans (_envd_leave).
  _envd_fl=l
  [[ -t 2 && -z ${NO_COLOR-} && ${TERM-} != dumb ]] && _envd_fl=cl
  # Flag n: entering (another file than at the last check): the daemon runs the file
  # rather than replaying a cached result, as direnv does on every entry.
  [[ $_envd_f != $_envd_found ]] && _envd_fl+=n
  _envd_head=(ENVD-HOOK 1 $_envd_id zsh "$_envd_fl" "$PWD")
  _envd_body=${(pj:\0:)_envd_kv}${_envd_kv:+$'\0'}$'\0'
  (( _envd_dl = EPOCHREALTIME + 0.1 ))
  if (( ${#_envd_body} < 100000 )); then
    # Fits in the socket's buffers: cannot block, even when the daemon is stopped.
    # syswrite fails quietly (status 2): no `2>/dev/null`, which opens /dev/null and moves
    # stderr away and back, seven system calls, at every request.
    syswrite -o $_envd_fd -- "${(pj:\0:)_envd_head}"$'\0'"$_envd_body" || return 2
    _envd_recv ack || return $?
  else
    # Bigger: the header first; the rest once the daemon has shown it is reading.
    syswrite -o $_envd_fd -- "${(pj:\0:)_envd_head}"$'\0' || return 2
    _envd_recv ack || return $?
    syswrite -o $_envd_fd -- "$_envd_body" || return 2
  fi
  _envd_ms=${${(@0)_envd_buf}[5]}
  [[ $_envd_ms == <0-999999> ]] || _envd_ms=$_envd_wait
  _envd_wait=$_envd_ms
  (( _envd_dl = EPOCHREALTIME + (_envd_ms + 500) / 1000.0 ))
  _envd_recv answer || return $?
  case $_envd_prc in
    (0|3) return $_envd_prc ;;
    (*) return 1 ;;
  esac
}

# The socket is kept open across prompts (the daemon serves many requests on one
# connection): no connect and no new stream in the daemon per request. It belongs to the
# process that opened it: a subshell (whose $$ is the parent's) opens its own.
typeset -g _envd_kfd=${_envd_kfd-} _envd_kpid=${_envd_kpid-}

_envd_drop() {
  [[ -n $_envd_kfd && $_envd_kpid == $sysparams[pid] ]] && exec {_envd_kfd}>&-
  _envd_kfd= _envd_kpid=
}

# One round trip over the daemon's socket. 0: an answer, parsed (_envd_parse); 1: none in
# time; 2: this transport is not available here; 3: the daemon wants the CLI.
_envd_ask() {
  emulate -L zsh
  local _envd_fd _envd_rc=0
  [[ ${ENVD_NO_DAEMON-} != 1 && -n $_envd_sockok ]] || return 2
  _envd_rdir || return 2
  [[ -S $_envd_sock ]] || { _envd_drop; return 2; }
  if [[ -n $_envd_kfd && $_envd_kpid == $sysparams[pid] ]]; then
    _envd_fd=$_envd_kfd
    _envd_talk || _envd_rc=$?
    (( _envd_rc == 0 )) && return 0
    # An answer may still come on it (1), or it is not to be used again (3): closed.
    _envd_drop
    # Closed by the daemon (idle, restarted): once more on a new connection.
    (( _envd_rc == 2 )) || return $_envd_rc
    _envd_rc=0
  fi
  # Refused or missing: no daemon. `envd export` starts one.
  zsocket $_envd_sock 2>/dev/null || return 2
  _envd_fd=$REPLY
  _envd_talk || _envd_rc=$?
  if (( _envd_rc == 0 )); then
    _envd_kfd=$_envd_fd _envd_kpid=$sysparams[pid]
  else
    exec {_envd_fd}>&-
  fi
  return $_envd_rc
}

# ---- apply ----------------------------------------------------------------------------
# Check the reply in _envd_rep without changing anything: `ENVD-HOOK 1 ID`, records that
# tile the rest exactly, `z ID`. 0 valid, 1 malformed, 3 the daemon wants the CLI (`v`),
# 4 cut off (what is there so far is a valid beginning).
_envd_parse() {
  emulate -L zsh
  local _envd_i=4 _envd_c=${#_envd_rep}
  (( _envd_c >= 3 )) || return 4
  [[ $_envd_rep[1] == ENVD-HOOK && $_envd_rep[2] == 1 && $_envd_rep[3] == $_envd_id ]] || return 1
  while (( _envd_i <= _envd_c )); do
    case $_envd_rep[_envd_i] in
      (x) (( _envd_i += 3 )) ;;
      # A leave plan: its L and l records are checked when it is used (_envd_leave).
      (P) [[ $_envd_rep[_envd_i+1] == <-> ]] && (( _envd_i + 1 + _envd_rep[_envd_i+1] < _envd_c )) || return 1
          (( _envd_i += 2 + _envd_rep[_envd_i+1] )) ;;
      (p) (( _envd_i += 1 )) ;;
      ([umkgwf]) (( _envd_i += 2 )) ;;
      (v) return 3 ;;
      (z)
        (( _envd_i < _envd_c )) || return 4
        [[ $_envd_rep[_envd_i+1] == $_envd_id ]] || return 1
        return 0 ;;
      (*) return 1 ;;
    esac
  done
  return 4
}

# Apply a reply _envd_parse found valid. Nothing before this point changed the shell.
_envd_apply() {
  emulate -L zsh
  setopt local_traps
  local _envd_i=4 _envd_y _envd_ls=0 _envd_le=0
  trap '' INT
  while :; do
    _envd_y=$_envd_rep[_envd_i+1]
    case $_envd_rep[_envd_i] in
      (x)
        if [[ $_envd_y == [A-Za-z_]* && $_envd_y != *[^A-Za-z0-9_]* && $_envd_y != _envd_* ]]; then export "$_envd_y=$_envd_rep[_envd_i+2]"; fi
        (( _envd_i += 3 )) ;;
      (u)
        if [[ $_envd_y == [A-Za-z_]* && $_envd_y != *[^A-Za-z0-9_]* && $_envd_y != _envd_* ]]; then unset -- "$_envd_y"; fi
        (( _envd_i += 2 )) ;;
      (m) print -r -- "$_envd_y" >&2; (( _envd_i += 2 )) ;;
      (g) _envd_rg=$_envd_y; (( _envd_i += 2 )) ;;
      (k) _envd_rk=$_envd_y; (( _envd_i += 2 )) ;;
      (f) _envd_rf+=("$_envd_y"); (( _envd_i += 2 )) ;;
      # The leave plan: its records, taken as they are once the loop is done (checked when
      # used).
      (P) (( _envd_ls = _envd_i + 2, _envd_le = _envd_ls + _envd_y, _envd_i = _envd_le )) ;;
      (w) (( _envd_i += 2 )) ;;
      (p) (( _envd_i += 1 )) ;;
      (*) break ;;
    esac
  done
  _envd_lv=()
  (( _envd_ls )) && _envd_lv=("${(@)_envd_rep[_envd_ls,_envd_le-1]}")
  if [[ -n $_envd_rk && $_envd_rk != $_envd_kline ]]; then
    _envd_kline=$_envd_rk
    _envd_markers=(${(s.:.)_envd_rk})
  fi
}

# ---- fallback -------------------------------------------------------------------------
# `envd export zsh` (a Node process: ~50 ms; it starts the daemon when none runs). Its
# output is shell code whose every value is quoted by envd's proven quoter.
# With an unsafe runtime dir, in-process (ENVD_NO_DAEMON=1 for that command: the CLI
# then does not touch the dir, nor warn about it at every prompt; this shell warned once).
_envd_fallback() {
  local _envd_o _envd_st=0
  local -a _envd_b=(--budget "$_envd_wait")
  # Found unsafe by its modes with stat(1): this path starts a process anyway, so look
  # again (it may have been fixed).
  if [[ $_envd_rok == 0 ]]; then _envd_rok=; _envd_rdir || :; fi
  # In-process nothing would finish a slow evaluation later: wait.
  [[ ${ENVD_NO_DAEMON-} == 1 || $_envd_rok == [0-] ]] && _envd_b=()
  _envd_try=$_envd_key
  # The environment is the CLI's to change now: no plan vouches for it any more.
  _envd_lv=()
  if [[ $_envd_rok == [0-] ]]; then
    _envd_rwarn
    _envd_o=$(ENVD_NO_DAEMON=1 "$_envd_bin" export zsh) || _envd_st=$?
  else
    _envd_o=$("$_envd_bin" export zsh "${_envd_b[@]}") || _envd_st=$?
  fi
  # Killed by a signal (Ctrl-C): left noted, as when this function is aborted.
  (( _envd_st > 128 )) || _envd_try=
  if (( _envd_st <= 1 )) && [[ -n $_envd_o ]]; then
    setopt local_traps
    trap '' INT
    eval "$_envd_o"
  fi
  _envd_rg=
  # The CLI may just have made the runtime dir (and started the daemon): check it first.
  if _envd_rdir && [[ -r $_envd_genfile ]]; then IFS= read -r _envd_rg < $_envd_genfile || :; fi
}

# ---- hook -----------------------------------------------------------------------------
_envd_unanswered() {
  if [[ -z $_envd_warned ]]; then
    _envd_warned=1
    print -r -- "envd: the daemon did not answer in time; environment unchanged (trying again at the next prompt)" >&2
  fi
}

# _envd_fresh: 0 when no file the loaded state depends on may have changed since the
# stamp (an edit, `envd allow`, `envd reload`...): builtin tests, a few stats, no process.
# Made by _envd_deps_set when the list changes, each test written out in one [[ ]]: a
# loop over the names cost ~5 µs more at every prompt. A file that is there must be older
# than the stamp ("the stamp is newer", not "the file is not newer": zsh and fish compare
# whole seconds, so a write in the stamp's own second counts as a change, asked once more
# once the second is over and the stamp moves past it; zsh's -nt is false when the file
# is gone, which is asked about once too). One that was not there (a watch_file target,
# a config file) must still not be: it counts when it appears, whatever its mtime.
# _envd_deps_set FILE...: _envd_deps := the files, and _envd_fresh made for them.
_envd_deps_set() {
  emulate -L zsh
  local _envd_x _envd_c=
  _envd_deps=("$@")
  for _envd_x; do
    if [[ -e $_envd_x || -L $_envd_x ]]; then _envd_c+=" && \$_envd_stamp -nt ${(qq)_envd_x}"; else _envd_c+=" && ! -e ${(qq)_envd_x}"; fi
  done
  if [[ -z $_envd_c ]]; then
    _envd_fresh() { return 0 }
  else
    eval "_envd_fresh() { [[ ${_envd_c# && } ]] }"
  fi
}

# The stamp, rewritten before each request: whatever is written after it (the next
# command's edits) is newer. `>|` whatever no_clobber says; a builtin redirection. Made
# owner-only whatever the umask, once per shell (one process; never on an idle prompt).
_envd_touch() {
  [[ -d $_envd_run/sh && ! -L $_envd_run/sh ]] || return 0
  if [[ -f $_envd_stamp && ! -L $_envd_stamp && -O $_envd_stamp ]]; then
    : 2>/dev/null >|$_envd_stamp || :
  else
    # The note (_envd_hook) too, which no generation read has vouched for yet.
    _envd_noted=
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
  emulate -L zsh
  setopt local_traps
  local _envd_i _envd_n _envd_w _envd_c=${#_envd_lv}
  for (( _envd_i = 1; _envd_i <= _envd_c; _envd_i += 4 )); do
    case $_envd_lv[_envd_i] in
      (L) (( _envd_i -= 2 )); continue ;;
      (l) ;;
      (*) return 1 ;;
    esac
    _envd_n=$_envd_lv[_envd_i+1] _envd_w=$_envd_lv[_envd_i+2]
    [[ $_envd_n == [A-Za-z_]* && $_envd_n != *[^A-Za-z0-9_]* && $_envd_n != _envd_* ]] || return 1
    if [[ $_envd_w == - ]]; then
      [[ ${(tP)_envd_n} != *-export* ]] || return 1
    else
      [[ ${(tP)_envd_n} == *-export* && ${(P)_envd_n} == "${_envd_w#=}" ]] || return 1
    fi
  done
  trap '' INT
  for (( _envd_i = 1; _envd_i <= _envd_c; _envd_i += 4 )); do
    if [[ $_envd_lv[_envd_i] == L ]]; then
      print -r -- "$_envd_lv[_envd_i+1]" >&2
      (( _envd_i -= 2 ))
      continue
    fi
    _envd_n=$_envd_lv[_envd_i+1] _envd_w=$_envd_lv[_envd_i+3]
    case $_envd_w in
      (-) unset -- "$_envd_n" ;;
      ('='*) export "$_envd_n=${_envd_w#=}" ;;
    esac
  done
  _envd_lv=()
}

# $1: the generation just read; $2: 1 when a dependency is newer than the stamp. Decide
# with builtins whether to ask; ask; apply.
_envd_check() {
  emulate -L zsh
  local _envd_f _envd_id= _envd_rc=0 _envd_rg= _envd_rk= _envd_key
  local -a _envd_kv _envd_rep _envd_rf
  _envd_find
  # Ctrl-C during `envd export` (a slow .envrc without a daemon) aborts this function,
  # and the next prompt would start the same wait again: the prompt would never come
  # back. So what it ran for is noted before, and found still there after an interrupt:
  # hold until the directory, the file or the generation changes.
  _envd_key=$PWD$'\n'$_envd_f$'\n'$1
  if [[ $_envd_try == $_envd_key ]]; then
    _envd_try= _envd_held=$_envd_key
    print -r -- "envd: interrupted; environment unchanged here (cd in again to retry)" >&2
  fi
  if [[ $_envd_held == $_envd_key ]]; then
    _envd_pwd=$PWD _envd_gen=$1 _envd_found=$_envd_f
    return 0
  fi
  _envd_held=
  # Without a daemon (ENVD_NO_DAEMON=1, or an unsafe runtime dir) there is no generation
  # to say that an approval or an edit happened: inside a project every prompt asks
  # `envd export`, as direnv does.
  # Moving within the loaded project (same file) does not run it again, as direnv.
  if [[ -z ${2-} && $_envd_f == $_envd_found && $1 == $_envd_gen && ${ENVD_NO_DAEMON-} != 1 && $_envd_rok != [0-] ]] ||
    [[ -z $_envd_f && -z ${DIRENV_DIR-} && -z ${DIRENV_FILE-} && -z ${ENVD_DIFF-} ]]; then
    _envd_pwd=$PWD _envd_gen=$1 _envd_found=$_envd_f
    return 0
  fi
  # Leaving for a directory without an env file, nothing newer than the stamp: the last
  # answer's leave plan, when the shell is still as it left it (no request).
  if [[ -z $_envd_f && -z ${2-} ]] && (( ${#_envd_lv} )) && _envd_leave; then
    _envd_deps_set
    _envd_pwd=$PWD _envd_gen=$1 _envd_found=
    return 0
  fi
  _envd_deps_set
  _envd_rdir && _envd_touch
  _envd_ask || _envd_rc=$?
  case $_envd_rc in
    (0) _envd_apply; _envd_warned=; _envd_deps_set "${_envd_rf[@]}" ;;
    # Asked again at the next prompt (the stamp has moved past what was not seen yet).
    (1) _envd_unanswered; _envd_gen=-; return 0 ;;
    # `v`: this daemon will not serve this shell (another HOME or config, another hook
    # version). Its generation says nothing about this shell's files (its own `envd
    # allow` does not move it), so inside a project the next prompt asks again.
    (3) _envd_fallback; _envd_rg= ;;
    (*) _envd_fallback ;;
  esac
  _envd_pwd=$PWD _envd_gen=$_envd_rg _envd_found=$_envd_f
}

# The prompt hook (precmd). Keeps $? for the prompt. The idle path runs with the user's
# options, so it quotes everything and uses no arrays.
#
# The idle prompt (same $PWD, nothing changed) reads no file, as in ../bash/hook.bash: the
# note is rewritten just before the generation file is read and vouches for what was read
# while it stays newer (zsh's -nt is false when the generation file is missing), so stat
# calls alone decide. Nothing is opened on that path, so it needs no runtime-dir check.
_envd_hook() {
  local _envd_s=$? _envd_o=
  if [[ -n $_envd_skip ]]; then _envd_skip=; return $_envd_s; fi
  if [[ $PWD == "$_envd_pwd" && -n $_envd_noted && $_envd_noted == "$_envd_gen" && ${ENVD_NO_DAEMON-} != 1 &&
    $_envd_note -nt $_envd_genfile ]] && _envd_fresh; then
    return $_envd_s
  fi
  local _envd_g=
  _envd_noted=
  # The generation file only from a safe runtime dir (one of another user's could be a
  # FIFO that never opens).
  if _envd_rdir; then
    if [[ -r $_envd_genfile ]]; then
      if [[ -f $_envd_note && ! -L $_envd_note && -O $_envd_note ]] && : 2>/dev/null >|$_envd_note; then _envd_o=n; fi
      IFS= read -r _envd_g < "$_envd_genfile" || :
      if [[ $_envd_o == n && $_envd_g == "$_envd_gen" ]]; then _envd_noted=$_envd_g; fi
      _envd_o=
    fi
    _envd_fresh || _envd_o=1
  fi
  if [[ -n $_envd_o || $PWD != "$_envd_pwd" || $_envd_g != "$_envd_gen" || ${ENVD_NO_DAEMON-} == 1 || $_envd_rok == [0-] ]]; then
    _envd_noted=
    _envd_check "$_envd_g" "$_envd_o" || :
  fi
  return $_envd_s
}

# After a cd (chpwd): `cd proj && cmd` sees the project's environment. When the daemon did
# not answer, the prompt that follows does not wait for it a second time.
_envd_chpwd() {
  _envd_hook
  [[ $_envd_pwd == "$PWD" ]] || _envd_skip=1
}

# The check for the files this shell has (the hook loaded again) or for none.
_envd_deps_set "${_envd_deps[@]}"

# ---- register -------------------------------------------------------------------------
# First in precmd_functions and chpwd_functions, once.
_envd_register() {
  emulate -L zsh
  typeset -ga precmd_functions chpwd_functions
  (( ${precmd_functions[(Ie)_envd_hook]} )) || precmd_functions=(_envd_hook $precmd_functions)
  (( ${chpwd_functions[(Ie)_envd_chpwd]} )) || chpwd_functions=(_envd_chpwd $chpwd_functions)
}
if [[ -o interactive ]]; then _envd_register; fi
