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
# place: src/daemon/generation.ts). The same directory, mtime and inode: nothing more runs. After a cd: walk up looking
# for the marker files (.envrc...) with `-f`; the same file as last time and the same
# generation: return. Otherwise `envd export tcsh` (a Node process, ~50-100 ms; it starts
# the daemon when none runs and waits for a slow file only as long as the daemon's
# budget) writes `setenv NAME 'VALUE'` lines to a file of this shell's, which is sourced
# only when the command exited normally (tcsh runs a sourced file line by line).
#
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

# ---- register -------------------------------------------------------------------------
# Without a generation file (no daemon) every prompt goes on to the check: inside a
# project it asks, as direnv does; outside it finds nothing, with builtins.
alias precmd 'if ( "$cwd" != "$_envd_pwd" || $?ENVD_NO_DAEMON || ! -f "$_envd_genfile" || -M "$_envd_genfile" != "$_envd_m" || -I "$_envd_genfile" != "$_envd_i" ) source "$_envd_self" _envd_check'
goto _envd_end

# ---- hook -----------------------------------------------------------------------------
_envd_check:
# _envd_gm, _envd_gi := the generation file's mtime and inode, '' when there is none to
# read: only from a runtime dir that is this user's directory (not a symlink) and a
# generation file that is a regular file.
set _envd_gm = ''
set _envd_gi = ''
if ( -d "$_envd_run" && ! -l "$_envd_run" && -o "$_envd_run" && -f "$_envd_genfile" ) then
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
# file, same generation): nothing to ask, as direnv. Without a generation (no daemon)
# inside a project every prompt asks.
set _envd_ask = 1
if ( "$_envd_f" == '' && ! $?DIRENV_DIR && ! $?DIRENV_FILE && ! $?ENVD_DIFF ) set _envd_ask = 0
if ( "$_envd_f" == "$_envd_found" && "$_envd_gm" == "$_envd_m" && "$_envd_gi" == "$_envd_i" && "$_envd_gm" != '' && ! $?ENVD_NO_DAEMON ) set _envd_ask = 0
if ( $_envd_ask ) then
  # ---- ask and apply ------------------------------------------------------------------
  # The answer goes to a file of this shell's: in the runtime dir's sh/ (0700; the daemon
  # removes it once this shell is gone), or before there is one a private temp file.
  if ( -d "$_envd_run/sh" && ! -l "$_envd_run/sh" && -o "$_envd_run/sh" ) then
    set _envd_out = "$_envd_run/sh/$$-tcsh.out"
  else if ( ! $?_envd_tmp ) then
    set _envd_tmp = "`mktemp`"
    set _envd_out = "$_envd_tmp"
  else
    set _envd_out = "$_envd_tmp"
  endif
  # Without a daemon nothing would finish a slow file later: then it waits.
  if ( $?ENVD_NO_DAEMON ) then
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
