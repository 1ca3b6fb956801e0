# envd prompt hook for tcsh (6.18 or later).
# Load it from ~/.tcshrc with:   eval "`envd hook tcsh`"
# `envd hook tcsh` prints one line that sets _envd_bin, _envd_kline and _envd_self and
# sources this file from envd's package. tcsh has no functions: the prompt hook is the
# `precmd` alias, whose one `if` decides with builtins whether anything may have changed
# and only then sources this same file again (argument _envd_check) for the rest. A
# precmd alias of your own is replaced, as by direnv's hook: set yours after this line, as
#   alias precmd "`alias precmd`; your commands"
#
# Every prompt: builtins only unless something changed. tcsh cannot read a file without a
# process, so the daemon's generation is seen through the generation file's mtime and
# inode (`-M`, `-I`): whenever the number moves the daemon changes one of them (it
# overwrites the file in a later second than its last write, else renames a new file into
# place: src/daemon/generation.ts). An edit the watcher has not seen yet is seen through
# the stamp: the env file found, not older than the stamp written before the last request
# (whole seconds). The same directory, mtime, inode and no newer env file: nothing more
# runs. After a cd: walk up looking for the marker files (.envrc...) with `-f`; the same
# file as last time and the same generation: return. Otherwise `envd export tcsh
# --budget MS`, which bin/envd (bash, no Node) asks of the running daemon over its FIFO
# transport; Node only when no daemon runs (it starts one). It waits for a slow file only
# as long as the daemon's budget, and writes `setenv NAME 'VALUE'` lines to a file of this
# shell's, which is sourced only when the command exited normally (tcsh runs a sourced
# file line by line).
#
# Nothing in the runtime dir is used (not even the generation file's mtime) before the dir
# is found safe, with builtins, at every check (see "runtime dir" below).
# The same sections are in the bash, zsh and fish hooks. Everything here is named _envd_*.

if ( $#argv == 1 ) then
  if ( "$argv[1]" == _envd_check ) goto _envd_check
endif

# ---- settings and paths ---------------------------------------------------------------
# The runtime dir exactly as src/config/paths.ts computes it, once, when the hook is loaded.
if ( $?ENVD_RUNTIME_DIR ) then
  set _envd_run = "$ENVD_RUNTIME_DIR"
else
  set _envd_run = ''
endif
# A trailing slash comes off with :h (which takes away the empty last component).
if ( "$_envd_run" == '' && $?XDG_RUNTIME_DIR ) then
  if ( "$XDG_RUNTIME_DIR" != '' ) then
    set _envd_run = "$XDG_RUNTIME_DIR"
    if ( "$_envd_run" =~ ?*/ ) set _envd_run = "$_envd_run:h"
    set _envd_run = "$_envd_run/envd"
  endif
endif
if ( "$_envd_run" == '' ) then
  set _envd_t = /tmp
  if ( $?TEMP ) then
    if ( "$TEMP" != '' ) set _envd_t = "$TEMP"
  endif
  if ( $?TMP ) then
    if ( "$TMP" != '' ) set _envd_t = "$TMP"
  endif
  if ( $?TMPDIR ) then
    if ( "$TMPDIR" != '' ) set _envd_t = "$TMPDIR"
  endif
  if ( "$_envd_t" =~ ?*/ ) set _envd_t = "$_envd_t:h"
  set _envd_run = "$_envd_t/envd-$uid"
  unset _envd_t
endif
set _envd_genfile = "$_envd_run/generation"
set _envd_stamp = "$_envd_run/sh/$$-stamp.stamp"
# The parent, for the runtime dir's check (`:h` of /x is empty, of a bare name itself).
set _envd_rpar = "$_envd_run:h"
if ( "$_envd_rpar" == '' ) set _envd_rpar = /
if ( "$_envd_rpar" == "$_envd_run" ) set _envd_rpar = .
set _envd_markers = ( $_envd_kline:as/:/ / )
# The daemon's budget in ms: `envd export` waits this long for a slow file, then the
# daemon goes on evaluating and moves the generation when it is done.
set _envd_wait = 200

# ---- state ----------------------------------------------------------------------------
# What this shell saw last. Loading the hook again keeps it.
if ( ! $?_envd_pwd ) set _envd_pwd = ''
if ( ! $?_envd_m ) set _envd_m = ''   # mtime of the generation file at the last check
if ( ! $?_envd_i ) set _envd_i = ''   # its inode
if ( ! $?_envd_found ) set _envd_found = '-'
if ( ! $?_envd_rok ) set _envd_rok = ''   # runtime dir: '' absent, 1 safe, 0 unsafe
if ( ! $?_envd_rwarned ) set _envd_rwarned = ''
if ( ! $?_envd_sf ) set _envd_sf = ''     # the env file the stamp is compared with
if ( ! $?_envd_sm ) set _envd_sm = 0      # the stamp's mtime

# ---- register -------------------------------------------------------------------------
# Without a generation file (no daemon) every prompt goes on to the check: inside a
# project it asks, as direnv does; outside it finds nothing, with builtins.
# The runtime dir's owner and type are looked at again at every prompt (its modes, and the
# parent's, only at a check: only its owner can change them, see below).
alias precmd 'if ( "$_envd_rok" != 1 || "$cwd" != "$_envd_pwd" || $?ENVD_NO_DAEMON || -l "$_envd_run" || ! -o "$_envd_run" || ! -f "$_envd_genfile" || -M "$_envd_genfile" != "$_envd_m" || -I "$_envd_genfile" != "$_envd_i" || ( "$_envd_sf" != "" && -M "$_envd_sf" >= "$_envd_sm" ) ) source "$_envd_self" _envd_check'
goto _envd_end

# ---- hook -----------------------------------------------------------------------------
_envd_check:
# ---- runtime dir ----------------------------------------------------------------------
# The daemon's files are used only from a runtime dir that is this user's, 0700 and not a
# symlink, in a parent where no other user can rename it away (sticky like /tmp, or
# writable by its owner, this user or root, alone: a group-writable parent only when its
# group is this user's). Without XDG_RUNTIME_DIR it is $TMPDIR/envd-UID, which another user
# may have made first, with a listener of theirs in it: then this shell sends nothing
# there, reads nothing from it, creates nothing in it, and works without the daemon
# (`envd export` in-process, ENVD_NO_DAEMON=1), with one warning. All builtin file tests
# (-l -d -o, -P for the permission bits, -k sticky, -U -G owner and group), at every
# check: no process. _envd_rok := 1 safe, 0 unsafe, '' not there (yet).
set _envd_rok = 0
set _envd_rwhy = ''
set _envd_t = 700
if ( -l "$_envd_run" ) then
  set _envd_rwhy = 'is a symlink'
else if ( ! -e "$_envd_run" ) then
  set _envd_rok = ''
else if ( ! -d "$_envd_run" ) then
  set _envd_rwhy = 'is not a directory'
else if ( ! -o "$_envd_run" ) then
  set _envd_rwhy = 'is owned by another user'
else
  @ _envd_t = ( -P777 "$_envd_run" )
endif
if ( "$_envd_rok" == 0 && "$_envd_rwhy" == '' ) then
  # The parent's owner (-U) and group (-G), numbers; -P002: the bits of 002 that are set.
  @ _envd_u = ( -U "$_envd_rpar" )
  @ _envd_g = ( -G "$_envd_rpar" )
  if ( "$_envd_t" != 700 ) then
    set _envd_rwhy = "has mode $_envd_t, not 700"
  else if ( $_envd_u != 0 && ! -o "$_envd_rpar" ) then
    set _envd_rwhy = 'is in a directory owned by another user'
  else if ( ! -k "$_envd_rpar" && ( -P002 "$_envd_rpar" || ( -P020 "$_envd_rpar" && $_envd_g != $gid ) ) ) then
    # Not sticky, and writable by others (or by a group that is not this user's own).
    set _envd_rwhy = 'is in a directory that other users can write to and that is not sticky'
  else
    set _envd_rok = 1
  endif
endif
if ( "$_envd_rok" == 0 && "$_envd_rwarned" == '' ) then
  set _envd_rwarned = 1
  echo "envd: runtime dir $_envd_run:q $_envd_rwhy; not using it: this shell works without the daemon (remove it, or set ENVD_RUNTIME_DIR to a private directory)" >>! /dev/stderr
endif

# _envd_gm, _envd_gi := the generation file's mtime and inode, '' when there is none to
# read: only from a safe runtime dir and a generation file that is a regular file.
set _envd_gm = ''
set _envd_gi = ''
if ( "$_envd_rok" == 1 && -f "$_envd_genfile" ) then
  @ _envd_gm = ( -M "$_envd_genfile" )
  @ _envd_gi = ( -I "$_envd_genfile" )
endif

# ---- find -----------------------------------------------------------------------------
# _envd_f := the nearest marker file at or above $cwd ('' when there is none).
set _envd_d = "$cwd"
set _envd_f = ''
while ( 1 )
  foreach _envd_k ( $_envd_markers )
    if ( "$_envd_d" == '/' ) then
      set _envd_c = "/$_envd_k"
    else
      set _envd_c = "$_envd_d/$_envd_k"
    endif
    if ( "$_envd_f" == '' && -f "$_envd_c" ) set _envd_f = "$_envd_c"
  end
  if ( "$_envd_f" != '' || "$_envd_d" == '/' || "$_envd_d" !~ /* ) break
  set _envd_d = "$_envd_d:h"
  if ( "$_envd_d" == '' ) set _envd_d = /
end

# Outside every project with nothing loaded, or moving within the loaded project (same
# file, same generation, not newer than the stamp): nothing to ask, as direnv. Without a
# generation (no daemon, or an unsafe runtime dir) inside a project every prompt asks.
set _envd_ask = 1
if ( "$_envd_f" == '' && ! $?DIRENV_DIR && ! $?DIRENV_FILE && ! $?ENVD_DIFF ) set _envd_ask = 0
if ( "$_envd_f" == "$_envd_found" && "$_envd_gm" == "$_envd_m" && "$_envd_gi" == "$_envd_i" && "$_envd_gm" != '' && ! $?ENVD_NO_DAEMON ) set _envd_ask = 0
# The env file not older than the stamp (whole seconds: a write in the stamp's own second
# counts; once that second is over, the next request's stamp moves past it).
if ( "$_envd_sf" != '' && "$_envd_sf" == "$_envd_f" && -M "$_envd_sf" >= "$_envd_sm" ) set _envd_ask = 1
if ( $_envd_ask ) then
  # ---- ask and apply ------------------------------------------------------------------
  # The answer goes to a file of this shell's: in the runtime dir's sh/ (0700; the daemon
  # removes it once this shell is gone), or before there is one (or while the runtime dir
  # is unsafe) a private temp file.
  set _envd_sf = ''
  if ( "$_envd_rok" == 1 && -d "$_envd_run/sh" && ! -l "$_envd_run/sh" && -o "$_envd_run/sh" ) then
    set _envd_out = "$_envd_run/sh/$$-tcsh.out"
    # Both owner-only whatever the umask: made once per shell (one process), then
    # rewritten by builtin redirections, which keep the mode.
    if ( ! -f "$_envd_out" || -l "$_envd_out" || ! -o "$_envd_out" || ! -f "$_envd_stamp" || -l "$_envd_stamp" || ! -o "$_envd_stamp" ) then
      \sh -c 'umask 077 && rm -f -- "$1" "$2" && : >"$1" && : >"$2"' sh "$_envd_out" "$_envd_stamp"
    endif
    # The stamp, just before asking: an edit after it leaves the env file not older.
    if ( -f "$_envd_stamp" && ! -l "$_envd_stamp" && -o "$_envd_stamp" ) then
      echo -n >! "$_envd_stamp"
      @ _envd_sm = ( -M "$_envd_stamp" )
      set _envd_sf = "$_envd_f"
    endif
  else if ( ! $?_envd_tmp ) then
    set _envd_tmp = "`mktemp`"
    set _envd_out = "$_envd_tmp"
  else
    set _envd_out = "$_envd_tmp"
  endif
  # Without a daemon nothing would finish a slow file later: then it waits. With an
  # unsafe runtime dir, in-process (the CLI then does not touch the dir, nor warn about it
  # at every prompt: this shell warned once).
  if ( "$_envd_rok" == 0 ) then
    \env ENVD_NO_DAEMON=1 "$_envd_bin" export tcsh >! "$_envd_out"
    set _envd_st = $status
  else if ( $?ENVD_NO_DAEMON ) then
    "$_envd_bin" export tcsh >! "$_envd_out"
    set _envd_st = $status
  else
    "$_envd_bin" export tcsh --budget "$_envd_wait" >! "$_envd_out"
    set _envd_st = $status
  endif
  # 0, or 1 for a refused file (whose state is still recorded): the file is whole.
  if ( $_envd_st <= 1 ) source "$_envd_out"
  # The generation kept is the one read BEFORE asking: a slow file that finishes while
  # `envd export` exits moves it past that, so the next prompt asks again.
endif
set _envd_pwd = "$cwd"
set _envd_m = "$_envd_gm"
set _envd_i = "$_envd_gi"
set _envd_found = "$_envd_f"

_envd_end:
