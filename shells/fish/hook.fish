# envd prompt hook for fish (3.1 or later).
# Load it from ~/.config/fish/config.fish with:   envd hook fish | source
#
# Every prompt: when $PWD and the daemon's generation number are what this shell saw
# last, return at once (builtins only: no process is started). After a cd: walk up
# looking for the marker files (.envrc...); the same file as last time and the same
# generation: return. Otherwise one round trip to the daemon over this shell's FIFO pair,
# builtins only, guarded by this shell's watchdog (see "transport"); without /proc or
# bash 4.4, `nc -U -w` on the daemon's socket; the Node CLI `envd export fish` when
# neither is available.
# Nothing in the runtime dir is touched before the dir is found safe (see "runtime dir").
# Answers are hook records (docs/architecture.md): every name is checked and values are
# applied with `set -gx NAME VALUE`, never evaluated as code (the functions made with
# `eval` for requests, exports and leave plans hold checked names and list positions only).
#
# The same sections and function names are in ../bash/hook.bash and ../zsh/hook.zsh.
# Everything here is named _envd_*.
# `envd hook fish` prints this file without its blank and comment-only lines (inside the
# watchdog's text too, where they are bash comments): fish counts lines from the start
# of the sourced text at each function call that opens a block (an `if`, a loop, a call),
# ~1.2 µs per KB before it. So the paths taken at every prompt and request test with
# `...; and return` rather than `if`, and their functions are defined again from their
# own text once a shell has its FIFO pair (_envd_redefine).

# ---- settings -------------------------------------------------------------------------
set -g _envd_bin @ENVD_BIN@

# ---- paths ----------------------------------------------------------------------------
# A command substitution splits its output at newlines, and a file name may hold one. So
# strings taken from paths come out of printf NUL-terminated and are split at the NUL:
# _envd_head N STRING := the first N characters of STRING, exactly.
function _envd_head
    set -g _envd_h (printf '%.*s\0' $argv[1] $argv[2] | string split0)
end

# _envd_h := $argv[1] without one trailing slash.
function _envd_noslash
    set -g _envd_h $argv[1]
    if string match -q -- '?*/' $argv[1]
        _envd_head (math (string length -- $argv[1]) - 1) $argv[1]
    end
end

# The runtime dir exactly as src/config/paths.ts computes it, once, when the hook is
# loaded (a later change of XDG_RUNTIME_DIR in this shell is not followed).
function _envd_paths
    if test -n "$ENVD_RUNTIME_DIR"
        set -g _envd_run $ENVD_RUNTIME_DIR
    else if test -n "$XDG_RUNTIME_DIR"
        _envd_noslash $XDG_RUNTIME_DIR
        set -g _envd_run $_envd_h/envd
    else
        set -l _envd_t /tmp
        for _envd_v in TMPDIR TMP TEMP
            if test -n "$$_envd_v"
                set _envd_t "$$_envd_v"
                break
            end
        end
        # fish has no $UID: one `id -u`, when the hook is loaded.
        _envd_noslash $_envd_t
        set -g _envd_run $_envd_h/envd-(command id -u)
    end
    set -g _envd_genfile $_envd_run/generation
    set -g _envd_sock $_envd_run/daemon.sock
    set -g _envd_stamp $_envd_run/sh/$fish_pid-stamp.stamp
    set -g _envd_note $_envd_run/sh/$fish_pid-seen.stamp
end
_envd_paths
set -q _envd_noted; or set -g _envd_noted '' # the generation read after the note was last written (see _envd_hook)

# ---- state ----------------------------------------------------------------------------
# What this shell saw last. Loading the hook again keeps it.
set -q _envd_pwd; or set -g _envd_pwd '' # $PWD at the last check
set -q _envd_gen; or set -g _envd_gen '' # generation of the last answer
set -q _envd_found; or set -g _envd_found - # marker file found at the last check ('' none, '-' unknown)
set -q _envd_n; or set -g _envd_n 0 # request counter (ids; see _envd_reqhead)
set -q _envd_ids; or set -g _envd_ids # the ids left in this block
set -g _envd_sfx # 00 01 .. 99 (brace expansion varies its first list fastest)
for _envd_t in 0 1 2 3 4 5 6 7 8 9
    set -a _envd_sfx $_envd_t{0,1,2,3,4,5,6,7,8,9}
end
set -q _envd_wait; or set -g _envd_wait 200 # the daemon's budget in ms (from its `w` record)
set -q _envd_warned; or set -g _envd_warned '' # warned that the daemon does not answer
set -q _envd_try; or set -g _envd_try '' # what `envd export` is running for (see _envd_check)
set -q _envd_held; or set -g _envd_held '' # what it was interrupted for: not asked again until it changes
# The names to look for, from the config when the hook was printed (`k` records update them).
set -g _envd_kdef @ENVD_MARKERS@
set -q _envd_kline; or set -g _envd_kline $_envd_kdef
set -q _envd_markers; or set -g _envd_markers (string split -n : -- $_envd_kline)
# The files the loaded state depends on (the daemon's `f` records): one that may have
# changed since the stamp, which this shell rewrites before each request, means ask.
set -q _envd_deps; or set -g _envd_deps
# What _envd_parse_joined and _envd_parse find in an answer (globals: see the former).
set -g _envd_xn
set -g _envd_xv
set -g _envd_un
set -g _envd_msg
set -g _envd_rf
set -g _envd_qln # a leave plan's names, values now and then, and messages (`l` and `L` records)
set -g _envd_qlw
set -g _envd_qlv # the kind of each NOW: `-` (not exported), `=` (this value), '' (neither: ask)
set -g _envd_qlk
set -g _envd_qlt
set -g _envd_qlm
# The leave plan that came with the last answer (see _envd_leave). Loading the hook again keeps it.
set -q _envd_pn; or set -g _envd_pn
set -q _envd_pw; or set -g _envd_pw
set -q _envd_pv; or set -g _envd_pv
set -q _envd_pk; or set -g _envd_pk
set -q _envd_pt; or set -g _envd_pt
set -q _envd_pm; or set -g _envd_pm
set -q _envd_tv[1]; or set -g _envd_tv -n x # the same as one `test` expression (see _envd_stale)
set -q _envd_nc; or set -g _envd_nc '' # nc to use ('' not probed yet, '-' none)
set -q _envd_pair; or set -g _envd_pair '' # this shell's FIFOs, $RUNDIR/sh/<pid>-<token> (see "transport")
set -q _envd_wpid; or set -g _envd_wpid '' # pid of its watchdog
set -q _envd_fifos; or set -g _envd_fifos '' # '-': this shell cannot have them (no /proc or no bash 4.4)
set -g _envd_skip '' # after a cd: 1 it was not answered (skip this prompt), a it was seen through (see _envd_on_prompt)

# ---- runtime dir ----------------------------------------------------------------------
# The daemon's files are used only from a runtime dir that is this user's, 0700 and not a
# symlink, in a parent where no other user can rename it away (sticky like /tmp, or
# writable by its owner, this user or root, alone). Without XDG_RUNTIME_DIR it is
# $TMPDIR/envd-UID, which another user may have made first, with a listener of theirs in
# it: then this shell sends nothing there, reads nothing from it, and works without the
# daemon (`envd export` in-process), with one warning.
# Type, owner and symlink are builtin tests, made before every use. The modes need
# stat(1): one process when the dir is first seen (again after it was gone, or before a
# fallback while it is unsafe), never on an idle prompt. Between two looks nobody else can
# change anything: only the owner changes a dir's mode, and the parent's check means only
# this user or root can rename it.
set -g _envd_rok '' # '' not checked, 1 safe, 0 unsafe by its modes, - unsafe now
set -g _envd_rwhy '' # what is wrong with it
set -q _envd_rwarned; or set -g _envd_rwarned '' # warned that it is unsafe (once per shell)

# 0 when the runtime dir can be used now; 1 when it cannot (absent, or _envd_rok 0 or -).
function _envd_rdir
    # Known safe and still this user's directory: the tests below in one command.
    test "$_envd_rok" = 1 -a ! -L $_envd_run -a -d $_envd_run -a -O $_envd_run; and return 0
    if test -L $_envd_run
        set -g _envd_rok -
        set -g _envd_rwhy 'is a symlink'
        return 1
    end
    if not test -e $_envd_run
        set -g _envd_rok ''
        return 1
    end
    if not test -d $_envd_run
        set -g _envd_rok -
        set -g _envd_rwhy 'is not a directory'
        return 1
    end
    if not test -O $_envd_run
        set -g _envd_rok -
        set -g _envd_rwhy 'is owned by another user'
        return 1
    end
    test "$_envd_rok" = 1; and return 0
    test "$_envd_rok" = 0; and return 1
    _envd_rstat
end

# The modes of the runtime dir (not followed) and of its parent (followed), with one
# stat(1) (GNU, else BSD). Sets _envd_rok to 1 or 0. Modes are compared digit by digit
# (fish's math has no octal; fish globs have no [...], hence the regexes).
function _envd_rstat
    set -l _envd_p /
    if string match -qr -- '[^/]/[^/]*\z' $_envd_run
        set -l _envd_i (string match -rn -- '[^/]/[^/]*\z' $_envd_run | string split ' ')
        _envd_head $_envd_i[1] $_envd_run
        set _envd_p $_envd_h/
    else if not string match -q -- '/*' $_envd_run
        set _envd_p ./
    end
    set -l _envd_a (command stat -c '%u %a' -- $_envd_run $_envd_p 2>/dev/null
        or command stat -f '%u %Mp%Lp' -- $_envd_run $_envd_p 2>/dev/null)
    set _envd_a (string split ' ' -- $_envd_a)
    set -g _envd_rok 0
    # The parent's mode: sticky, group and other digits.
    set -l _envd_m (string match -r -- '^[0-7]*?([0-7]?)[0-7]([0-7])([0-7])$' "$_envd_a[4]")
    if test (count $_envd_a) -ne 4; or string match -qr -- '[^0-9]' $_envd_a; or test (count $_envd_m) -ne 4
        set -g _envd_rwhy 'cannot be checked (stat failed)'
    else if not string match -qr -- '^0*[0-7]?700$' $_envd_a[2]
        set -g _envd_rwhy "has mode $_envd_a[2], not 700"
    else if test "$_envd_a[3]" != 0; and not test -O $_envd_p
        set -g _envd_rwhy 'is in a directory owned by another user'
    else if not string match -qr -- '^[1357]$' "$_envd_m[2]"; and begin
            string match -qr -- '^[2367]$' $_envd_m[4]
            or begin
                string match -qr -- '^[2367]$' $_envd_m[3]; and not test -G $_envd_p
            end
        end
        # Not sticky, and writable by others (or by a group that is not this user's own).
        set -g _envd_rwhy 'is in a directory that other users can write to and that is not sticky'
    else
        set -g _envd_rok 1
        set -g _envd_rwhy ''
        return 0
    end
    return 1
end

# The one warning; the path is shown escaped (no raw control characters from its name).
function _envd_rwarn
    test -z "$_envd_rwarned"; or return 0
    set -g _envd_rwarned 1
    # string escape leaves C1 controls (U+0080..U+009F) as they are.
    set -l _envd_q (string escape -- $_envd_run | string replace -ra '[\x{80}-\x{9f}]' '?')
    printf '%s\n' "envd: runtime dir $_envd_q $_envd_rwhy; not using it: this shell works without the daemon (remove it, or set ENVD_RUNTIME_DIR to a private directory)" >&2
end

# ---- find -----------------------------------------------------------------------------
# _envd_f := the nearest marker file at or above $PWD ('' when there is none).
# The usual case, an absolute $PWD and marker names without a newline: its components
# (a regex's named capture: a list set without a command substitution, which costs
# ~50 µs), every directory from $PWD up to / (nearest first), then one `path filter -q`
# over every directory/name pair: no marker anywhere (leaving a project) is one builtin;
# otherwise the first pair in that order that is a file. (A walk taking the parent one
# step at a time with command substitutions cost ~1.5 ms.)
# Otherwise (a newline somewhere: a command substitution would split the name), one
# component per step; every step up is one component shorter, so the walk ends on any
# path. Going up takes the prefix before the last slash by its position (see _envd_head:
# a name with a newline must stay one string).
# The candidates (every directory/name pair, in that order) of the last two directories
# walked the usual way are kept: a shell moving between a project and another place walks
# each once (the files themselves are looked at every time). Forgotten when the names change.
set -g _envd_fw # those two $PWD, the newer first
set -g _envd_fc1 # the candidates of $_envd_fw[1]
set -g _envd_fc2 # and of $_envd_fw[2]
function _envd_find
    set -g _envd_f ''
    set -l _envd_cs
    if test "$PWD" = "$_envd_fw[1]"
        set _envd_cs $_envd_fc1
    else if test "$PWD" = "$_envd_fw[2]"
        set _envd_cs $_envd_fc2
    else if string match -q -- '/*' $PWD; and not string match -q -- '*'\n'*' $PWD $_envd_markers
        # '' stands for / ("$d/$m" is then /$m).
        set -l _envd_ds ''
        string match -qra -- '/(?<_envd_c>[^/]+)' $PWD
        for _envd_x in $_envd_c
            set -p _envd_ds "$_envd_ds[1]/$_envd_x"
        end
        set _envd_cs $_envd_ds/$_envd_markers
        set -g _envd_fw $PWD $_envd_fw[1]
        set -g _envd_fc2 $_envd_fc1
        set -g _envd_fc1 $_envd_cs
    else
        _envd_find_walk
        return 0
    end
    path filter -qf -- $_envd_cs; or return 0
    for _envd_x in $_envd_cs
        if test -f $_envd_x
            set -g _envd_f $_envd_x
            return 0
        end
    end
end

# _envd_find's other case, one step at a time (see above).
function _envd_find_walk
    set -l _envd_d $PWD
    while true
        set -l _envd_p $_envd_d
        test "$_envd_d" = /; and set _envd_p ''
        for _envd_m in $_envd_markers
            if test -f "$_envd_p/$_envd_m"
                set -g _envd_f "$_envd_p/$_envd_m"
                return 0
            end
        end
        test -n "$_envd_p"; or return 0
        # "start length" of the last slash with the character before it: start is the
        # length of the parent. No such character: the parent is /.
        set -l _envd_i (string match -rn -- '[^/]/[^/]*\z' $_envd_d | string split ' ')
        if test -n "$_envd_i[1]"
            _envd_head $_envd_i[1] $_envd_d
            set _envd_d $_envd_h
        else if string match -q -- '/*' $_envd_d
            set _envd_d /
        else
            return 0
        end
    end
end

# ---- ask ------------------------------------------------------------------------------
# _envd_req := a function that prints this shell's next request: ENVD-HOOK 1 ID fish
# FLAGS PWD, then NAME VALUE for each exported variable ("$var" joins a list as fish
# exports it: with ':' for path variables, else with spaces), then an empty field, each
# ended by a NUL. One printf pass with one '%s\0' per field: printf writes each pass over
# its format at once, so the daemon is woken once, with no pipe to `string collect` (a
# wait for another thread). A loop over the names cost ~7 µs a variable; instead each set
# of names gets its function, made (eval) the first time that set is seen. The last 4 are
# kept (_envd_kvs; entering and leaving a project swap between two of them). The names
# come as one string, `set -xn`'s lines, read from a pipe (a command substitution, which
# hands the output to another thread and back, costs ~50 µs more).
set -g _envd_kvs # `set -xn`'s output for _envd_kv1 .. _envd_kv4
set -g _envd_kvi 0 # the slot made last
set -g _envd_req _envd_kv1
function _envd_env
    set -xn | read -lz _envd_j
    test "$_envd_j" = "$_envd_kvs[1]"; and set -g _envd_req _envd_kv1; and return 0
    test "$_envd_j" = "$_envd_kvs[2]"; and set -g _envd_req _envd_kv2; and return 0
    test "$_envd_j" = "$_envd_kvs[3]"; and set -g _envd_req _envd_kv3; and return 0
    test "$_envd_j" = "$_envd_kvs[4]"; and set -g _envd_req _envd_kv4; and return 0
    # Names are fish variable names (letters, digits, _), quoted all the same.
    set -l _envd_b
    set -l _envd_f '%s\0%s\0%s\0%s\0%s\0%s\0%s\0'
    for _envd_k in (string split -n \n -- $_envd_j)
        set -a _envd_b (string escape -- $_envd_k) '"$'$_envd_k'"'
        set _envd_f $_envd_f'%s\0%s\0'
    end
    set -g _envd_kvi (math $_envd_kvi % 4 + 1)
    eval "function _envd_kv$_envd_kvi; printf '$_envd_f' ENVD-HOOK 1 \$_envd_id fish \"\$_envd_fl\" \"\$PWD\" $_envd_b ''; end"
    set -g _envd_kvs[$_envd_kvi] $_envd_j
    set -g _envd_req _envd_kv$_envd_kvi
end

# Once per shell: OpenBSD netcat (it has -U and -N).
# The next request's id and flags (both transports): c when the terminal wants colour; n
# when entering (another file than at the last check), so the daemon runs the file rather
# than replaying a cached result, as direnv does on every entry. The counter goes up by
# one, taken from a block of 100 numbers (N00..N99, _envd_sfx after N): `math` (its
# output piped into `read`, which another thread writes: a wait for a CPU on a busy
# machine) only once per block, for the next N.
function _envd_reqhead
    set -q _envd_ids[1]; or _envd_idblock
    set -g _envd_n $_envd_ids[1]
    set -g _envd_id $_envd_n
    set -e _envd_ids[1]
    # l: this hook takes leave plans (_envd_leave).
    set -g _envd_fl l
    test -t 2 -a -z "$NO_COLOR" -a "$TERM" != dumb; and set -g _envd_fl cl
    test "$_envd_f" != "$_envd_found"; and set -g _envd_fl {$_envd_fl}n
end

function _envd_idblock
    math "floor($_envd_n / 100) + 1" | read -l _envd_b
    set -g _envd_ids $_envd_b$_envd_sfx
end

function _envd_probe
    set -g _envd_nc -
    set -l _envd_p (command -s nc); or return 0
    if command $_envd_p -h 2>&1 | string match -q -- '*-U*'
        set -g _envd_nc $_envd_p
    end
end

# Where the FIFO transport cannot be had: one round trip over the daemon's socket with
# `nc -U -w` (a process per request). Statuses as _envd_ask's.
function _envd_nc_ask
    test -S $_envd_sock; or return 2
    test -n "$_envd_nc"; or _envd_probe
    test "$_envd_nc" != -; or return 2
    _envd_env
    _envd_reqhead
    # No read timeout in fish: nc's own idle timeout (-w, whole seconds) bounds the wait.
    # The daemon acknowledges a request at once and answers within its budget (`w`), so
    # only a stopped daemon stays silent that long. (`timeout 0.3 nc` would bound it more
    # tightly but costs one more process, ~1.5 ms, on every request.) `nc -N` half-closes
    # once the request is sent; the daemon answers and closes.
    set -l _envd_t (math "ceil(($_envd_wait + 500) / 1000)")
    set -g _envd_rep ($_envd_req | command $_envd_nc -w $_envd_t -U -N $_envd_sock 2>/dev/null | string split0)
    set -l _envd_st $pipestatus
    if test (count $_envd_rep) -eq 0
        # 1: refused or no socket, no daemon (`envd export` starts one).
        test "$_envd_st[2]" = 1; and return 2
        # Silent: stopped (SIGSTOP), or gone since it accepted. On Linux /proc tells which
        # (a killed daemon may linger unreaped, a zombie); gone means `envd export`.
        if test -f $_envd_run/daemon.pid -a -d /proc
            read -l _envd_pid <$_envd_run/daemon.pid
            string match -qr -- '^[0-9]+$' "$_envd_pid"; or return 2
            test -r /proc/$_envd_pid/stat; or return 2
            read -l _envd_stat </proc/$_envd_pid/stat
            string match -q -- '*) Z*' $_envd_stat; and return 2
        end
        return 1
    end
    _envd_parse
    switch $status
        case 0
            return 0
        case 3
            return 3
    end
    return 1
end

# The transport: bash's FIFO transport (src/daemon/fifo.ts), made safe for fish. A
# request is written to this shell's `.req` FIFO; the daemon writes the answer to `.out`
# and `d ID` to `.res`. But fish has no read timeout, Ctrl-C does not interrupt its
# `read` from a pipe, and it opens a FIFO only the blocking way (`<`, `>`; no `<>`). So
# each shell has a watchdog, started once with its pair (the only process this path
# starts): a bash that holds the three FIFOs open (fish's opens never block, daemon or
# not) and is told of each request on `.wd` ("ID BUDGET", then "-" once fish has read
# the answer). It answers on `.res` in the daemon's place when the daemon cannot: `x ID`
# at once when the daemon is gone (the CLI starts one); `s ID` within 0.1 s when it is
# stopped (SIGSTOP: its state in /proc); `t ID` after the budget + 0.5 s; `i ID` on
# Ctrl-C (it runs in fish's process group: the terminal's SIGINT reaches it). Giving up,
# it takes back what is left unread in `.req` (a request bigger than the pipe holds
# would otherwise keep fish's write blocked). fish reads `.res` lines until one with its
# ID (lines for older IDs are skipped). The watchdog also registers the pair with each
# new daemon (`hook.fifo`, which it opens without blocking), exits on `q`, and checks
# every 10 s that the shell is still there. fish knows it is alive when /proc/PID/fd/5,
# its end of `.wd`, is a FIFO: one stat, no process.
# Its text: bash, in a fish string (no single quote or backslash in it). Arguments: fish's
# pid, the prefix of the pair's names, the runtime dir, the stamp. It prints its pid and
# the pair's prefix; exit status 3: bash older than 4.4.
set -g _envd_wsrc '
((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))) || exit 3
umask 077
b=$2-${EPOCHREALTIME//[!0-9]/}$RANDOM$RANDOM
command mkfifo -m 600 -- "$b.req" "$b.res" "$b.wd" || exit 1
if [[ ! -f $4 || -L $4 || ! -O $4 ]]; then command rm -f -- "$4"; : >"$4"; fi
exec 3<>"$b.req" 4<>"$b.res" 5<>"$b.wd" || exit 1
(
  trap "" TSTP TTIN TTOU QUIT
  id="" n=0 w=0 pid="" regd="" l="" st="" fresh=""
  # shellcheck disable=SC2317 # run by the trap
  onint() { [[ -z $id ]] || echo "i $id" >&4; id=""; }
  trap onint INT
  alive() {
    st=""
    [[ -n $pid && $pid != *[!0-9]* ]] && kill -0 "$pid" 2>/dev/null || return 1
    [[ ! -r /proc/$pid/stat ]] || IFS= read -r st <"/proc/$pid/stat" || :
    st=${st##*) }
    [[ $st != Z* ]]
  }
  drain() {
    local k=0
    l=""
    while IFS= read -r -N 4096 -t 0.05 -u 3 l || [[ -n $l ]]; do (( k++ < 4096 )) || break; done
  }
  # The daemon named by hook.pid: is it alive; when it is one this pair is not registered
  # with yet (a new daemon), register it. 1 when it is gone.
  look() {
    pid=""
    if [[ -f $3/hook.pid && ! -L $3/hook.pid ]]; then IFS= read -r pid <"$3/hook.pid" || :; fi
    alive || { regd=""; return 1; }
    if [[ $pid != "$regd" && -p $3/hook.fifo && ! -L $3/hook.fifo ]]; then
      echo "$b.req" 1<>"$3/hook.fifo" && regd=$pid
    fi
    return 0
  }
  look "$@" || :
  # A request is looked at 0.02 s after it came (fresh), not at once: most are answered
  # before, and the watchdog then does nothing but read two lines, while the daemon works.
  while :; do
    t=10
    [[ -z $id ]] || t=0.1
    [[ -z $fresh ]] || t=0.02
    if IFS= read -r -t "$t" -u 5 l; then
      # "ID BUDGET": watch a request; "-": the request was answered; "q": quit.
      [[ $l != q ]] || exit 0
      id=${l%% *} w=${l#* } fresh=""
      if [[ -z $id || $id == *[!0-9]* || -z $w || $w == *[!0-9]* || ${#w} -gt 6 ]]; then id=""; continue; fi
      n=$(( (w + 500) / 100 )) fresh=1
      continue
    fi
    if [[ -z $id ]]; then
      kill -0 "$1" 2>/dev/null && [[ -p $b.wd ]] || exit 0
      continue
    fi
    if [[ -n $fresh ]]; then
      fresh=""
      look "$@" && continue
      echo "x $id" >&4
      id=""
      continue
    fi
    if ! alive; then
      echo "x $id" >&4
    elif [[ $st == T* ]]; then
      drain
      echo "s $id" >&4
    elif (( n-- > 0 )); then
      continue
    else
      drain
      echo "t $id" >&4
    fi
    id="" regd=""
  done
) </dev/null >/dev/null 2>&1 &
echo "$!"
echo "$b"
'

# 0 when this shell's pair and watchdog are there (made now if need be); 1 when not.
function _envd_pair_up
    test -n "$_envd_wpid" -a -p /proc/$_envd_wpid/fd/5 -a -p "$_envd_pair.req"; and return 0
    test -z "$_envd_fifos"; or return 1
    if not test -d /proc/self/fd; or not command -q bash
        set -g _envd_fifos -
        return 1
    end
    # sh/ is the daemon's (0700), inside the runtime dir just checked.
    test -d $_envd_run/sh -a ! -L $_envd_run/sh -a -O $_envd_run/sh; or return 1
    _envd_pair_drop
    # Started in fish's own process group, so that Ctrl-C reaches it.
    set -l _envd_jc full
    status is-interactive-job-control; and set _envd_jc interactive
    status is-no-job-control; and set _envd_jc none
    status job-control none
    set -l _envd_o (command bash -c $_envd_wsrc envd-fish-watchdog $fish_pid $_envd_run/sh/$fish_pid $_envd_run $_envd_stamp 2>/dev/null)
    status job-control $_envd_jc
    if test (count $_envd_o) -eq 2; and string match -qr -- '^[0-9]+$' $_envd_o[1]
        set -g _envd_wpid $_envd_o[1]
        set -g _envd_pair $_envd_o[2]
        _envd_redefine
        return 0
    end
    # No bash 4.4 here, or its files could not be made: `nc` for this shell.
    set -g _envd_fifos -
    return 1
end

# fish finds the line of every block it runs (an `if`, a loop, a function call, a command
# substitution) by counting newlines from the start of the text the function was defined
# in, once per call of the function: ~1.2 µs per KB, ~25 µs for a function at the end of
# this text, a dozen times per request. So the functions on the prompt's and a request's
# path are defined again, each group from its own short text (`functions` prints a
# function's definition as it was written; one still running goes on as it was): ~1.5 ms,
# once, when this shell's pair is made (_envd_pair_up), not when the hook is loaded.
function _envd_redefine
    functions -q _envd_on_prompt; and functions _envd_on_prompt _envd_on_pwd | source
    functions _envd_hook _envd_mark | source
    functions _envd_check _envd_find _envd_touch _envd_rdir _envd_deps_set _envd_stale | source
    functions _envd_ask _envd_pair_up _envd_fifo_ask _envd_env | source
    functions _envd_parse_joined _envd_apply _envd_leave | source
end

# Forget the pair; its watchdog exits (told through its own descriptor: the pair's files
# may be gone).
function _envd_pair_drop
    if test -n "$_envd_wpid" -a -p /proc/$_envd_wpid/fd/5
        echo q >/proc/$_envd_wpid/fd/5
    end
    set -g _envd_wpid ''
    set -g _envd_pair ''
end

# One round trip over the pair. 0: an answer, parsed (_envd_parse); 1: none in time; 2:
# the daemon is gone; 3: the daemon wants the CLI; 4: Ctrl-C.
function _envd_fifo_ask
    _envd_env
    # _envd_reqhead, written out (a call costs more than its commands).
    set -q _envd_ids[1]; or _envd_idblock
    set -g _envd_n $_envd_ids[1]
    set -g _envd_id $_envd_n
    set -e _envd_ids[1]
    # l: this hook takes leave plans (_envd_leave); s: fields in .out ended by RS (below).
    set -g _envd_fl ls
    test -t 2 -a -z "$NO_COLOR" -a "$TERM" != dumb; and set -g _envd_fl cls
    test "$_envd_f" != "$_envd_found"; and set -g _envd_fl {$_envd_fl}n
    # The watchdog first: from now on something comes on .res whatever happens.
    echo $_envd_id $_envd_wait >$_envd_pair.wd
    # In one write (see _envd_env): the daemon is woken once, for the whole request.
    $_envd_req >$_envd_pair.req
    while read -l _envd_l <$_envd_pair.res
        switch $_envd_l
            case "d $_envd_id"
                # Answered: the watchdog stops watching (else it would give up on this
                # request later, and take back what is in .req then: the next request).
                echo - >$_envd_pair.wd
                # Flag s: the daemon ends each field with RS (0x1e) rather than NUL when no
                # field holds one, so the whole file is one `read -z` (a builtin read; a
                # command substitution costs ~100 µs more). Else it stops at the first NUL.
                read -lz _envd_a <$_envd_pair.out
                _envd_parse_joined "$_envd_a"; and return 0
                # `string split` ending a command substitution keeps newlines in its fields.
                if string match -q -- ENVD-HOOK\x1e'*' "$_envd_a"
                    set -g _envd_rep (string split -- \x1e "$_envd_a")
                else
                    set -g _envd_rep (string split0 <$_envd_pair.out)
                end
                _envd_parse
                set -l _envd_pr $status
                contains -- $_envd_pr 0 3; and return $_envd_pr
                # Not an answer to this request, or cut off: a new pair next time.
                _envd_pair_drop
                return 1
            case "x $_envd_id"
                return 2
            case "t $_envd_id" "s $_envd_id"
                return 1
            case "i $_envd_id"
                return 4
        end
        # Lines for earlier requests (answered late, or timed out after their answer).
        set -a _envd_k 1
        set -q _envd_k[256]; and return 1
    end
    return 1
end

# One round trip. 0: an answer, parsed (_envd_parse); 1: none in time; 2: no transport
# here, or no daemon; 3: the daemon wants the CLI; 4: interrupted (Ctrl-C).
function _envd_ask
    test "$ENVD_NO_DAEMON" != 1; or return 2
    _envd_rdir; or return 2
    if test -p $_envd_run/hook.fifo -a -f $_envd_run/hook.pid; and _envd_pair_up
        _envd_fifo_ask
        return $status
    end
    _envd_nc_ask
end

# ---- apply ----------------------------------------------------------------------------
# Check the reply in _envd_rep without changing the environment: `ENVD-HOOK 1 ID`, records
# that tile the rest exactly, `z ID`. 0 valid (records sorted into _envd_xn/_envd_xv/
# _envd_un/_envd_msg, _envd_rg, _envd_rk; the files and the leave plan, which are not
# applied now, kept in _envd_deps and _envd_p*), 1 malformed, 3 the daemon wants the CLI (`v`), 4 cut
# off. One pass over the fields with a state (what the next field is): `math` costs
# ~50 µs a call here, a `switch` a few.
function _envd_parse
    set -g _envd_xn
    set -g _envd_xv
    set -g _envd_un
    set -g _envd_msg
    set -g _envd_rg ''
    set -g _envd_rk ''
    set -g _envd_rf
    set -g _envd_qln
    set -g _envd_qlw
    set -g _envd_qlv
    set -g _envd_qlk
    set -g _envd_qlt
    set -g _envd_qlm
    set -q _envd_rep[5]; or return 4
    test "$_envd_rep[1]" = ENVD-HOOK -a "$_envd_rep[2]" = 1 -a "$_envd_rep[3]" = "$_envd_id"; or return 1
    set -l _envd_s t
    for _envd_f in $_envd_rep[4..-1]
        switch $_envd_s
            case t
                switch $_envd_f
                    case x
                        set _envd_s xn
                    case u m k g w v z f
                        set _envd_s $_envd_f
                    case l
                        set _envd_s ln
                    case L
                        set _envd_s Lm
                    case P
                        set _envd_s P
                    case p
                    case '*'
                        return 1
                end
            case xn
                set -a _envd_xn $_envd_f
                set _envd_s xv
            case xv
                set -a _envd_xv $_envd_f
                set _envd_s t
            case u
                set -a _envd_un $_envd_f
                set _envd_s t
            case ln
                set -a _envd_qln $_envd_f
                set _envd_s lw
            case lw
                set -a _envd_qlw $_envd_f
                # As _envd_parse_joined's capture: `-` alone, `=` before a value, else ''.
                switch $_envd_f
                    case -
                        set -a _envd_qlv -
                    case '=*'
                        set -a _envd_qlv =
                    case '*'
                        set -a _envd_qlv ''
                end
                set _envd_s lt
            case lt
                # As _envd_parse_joined takes it apart: `-` or `=`, and the rest (named
                # captures: no command substitution, which would split at newlines).
                string match -qr -- '(?s)\A(?<_envd_qk1>[-=]?)(?<_envd_qt1>.*)\z' $_envd_f
                set -a _envd_qlk $_envd_qk1
                set -a _envd_qlt $_envd_qt1
                set _envd_s t
            case Lm
                set -a _envd_qlm $_envd_f
                set _envd_s t
            case P
                set _envd_s t
            case m
                set -a _envd_msg $_envd_f
                set _envd_s t
            case k
                set _envd_rk $_envd_f
                set _envd_s t
            case f
                set -a _envd_rf $_envd_f
                set _envd_s t
            case g
                set _envd_rg $_envd_f
                set _envd_s t
            case w
                string match -qr '^[0-9]{1,6}$' -- $_envd_f; and set -g _envd_wait $_envd_f
                set _envd_s t
            case v
                return 3
            case z
                test "$_envd_f" = "$_envd_id"; or return 1
                # Valid, so applied: the files and the leave plan are kept (as
                # _envd_parse_joined does).
                set -g _envd_deps $_envd_rf
                set -g _envd_pn $_envd_qln
                set -g _envd_pw $_envd_qlw
                set -g _envd_pv $_envd_qlv
                set -g _envd_pk $_envd_qlk
                set -g _envd_pt $_envd_qlt
                set -g _envd_pm $_envd_qlm
                return 0
        end
    end
    return 4
end

# The usual answer, taken apart without a command per field (fish spends several µs on
# each; the loop above took ~0.7 ms for an answer of 50 fields). $argv[1]: the answer with
# each field ended by RS (\x1e; none holds one: see _envd_fifo_ask). One regex matches the
# whole, so what passes is exactly what _envd_parse finds valid, and takes the last `k`,
# `g` and `w` on the way (a group in a repeated one keeps what it matched last); then one
# per list sets it from its named captures, each match starting where the last one ended
# (\G: the records are walked in order, so a field is never taken for a tag). 0 when it
# was that answer (the same variables set as by _envd_parse); 1 when not (the caller then
# runs _envd_parse, which says why).
function _envd_parse_joined
    # The id is digits (_envd_reqhead): nothing in it is special to a regex.
    string match -qr -- '\AENVD-HOOK\x1e1\x1e'$_envd_id'\x1e(?:(?:x\x1e[^\x1e]*\x1e[^\x1e]*|l\x1e[^\x1e]*\x1e[^\x1e]*\x1e[^\x1e]*|[umfLP]\x1e[^\x1e]*|k\x1e(?<_envd_qk>[^\x1e]*)|g\x1e(?<_envd_qg>[^\x1e]*)|w\x1e(?:(?<_envd_qw>[0-9]{1,6})|[^\x1e]*)|p)\x1e)*?z\x1e'$_envd_id'\x1e\z' $argv[1]; or return 1
    set -l _envd_r '(?:\AENVD-HOOK\x1e1\x1e[0-9]+\x1e|\G)(?:(?:x\x1e[^\x1e]*\x1e[^\x1e]*|l\x1e[^\x1e]*\x1e[^\x1e]*\x1e[^\x1e]*|[umkgwfLP]\x1e[^\x1e]*|p)\x1e)*?'
    # The lists straight into the globals (declared under "state": a capture sets the
    # variable where it is, and an empty list when nothing matches).
    string match -qra -- $_envd_r'x\x1e(?<_envd_xn>[^\x1e]*)\x1e(?<_envd_xv>[^\x1e]*)\x1e' $argv[1]
    string match -qra -- $_envd_r'u\x1e(?<_envd_un>[^\x1e]*)\x1e' $argv[1]
    string match -qra -- $_envd_r'm\x1e(?<_envd_msg>[^\x1e]*)\x1e' $argv[1]
    # Valid, so applied: the files and the leave plan go where they are kept.
    string match -qra -- $_envd_r'f\x1e(?<_envd_deps>[^\x1e]*)\x1e' $argv[1]
    string match -qra -- $_envd_r'l\x1e(?<_envd_pn>[^\x1e]*)\x1e(?<_envd_pw>(?<_envd_pv>-(?=\x1e)|=?)[^\x1e]*)\x1e(?<_envd_pk>[-=]?)(?<_envd_pt>[^\x1e]*)\x1e' $argv[1]
    string match -qra -- $_envd_r'L\x1e(?<_envd_pm>[^\x1e]*)\x1e' $argv[1]
    # A group that took part in no match is an empty list: "$..." makes it ''.
    set -g _envd_rk "$_envd_qk"
    set -g _envd_rg "$_envd_qg"
    set -q _envd_qw[1]; and set -g _envd_wait $_envd_qw
    return 0
end

# Apply a reply _envd_parse found valid. Nothing before this point changed the shell.
# Every name checked at once; one that is not a plain name (never sent by envd) is
# skipped, with the others checked one by one (_envd_apply_each). Otherwise one `set -e`
# for every name unset, and the exports from a function made for that set of names (as
# the leave plans', _envd_leave: a loop cost two commands an export; plain names, so
# "$_envd_xn" tells the sets apart; the last 4 are kept).
set -g _envd_xks # "NAMES" of _envd_xs1 .. _envd_xs4
set -g _envd_xki 0 # the slot made last
function _envd_apply
    set -q _envd_msg[1]; and printf '%s\n' $_envd_msg >&2
    if string match -qrv '^(?!_envd_)[A-Za-z_][A-Za-z0-9_]*$' -- $_envd_xn $_envd_un
        _envd_apply_each ''
    else
        set -q _envd_un[1]; and set -e -g $_envd_un
        if not set -q _envd_xn[1]
        else if test "$_envd_xn" = "$_envd_xks[1]"
            _envd_xs1
        else if test "$_envd_xn" = "$_envd_xks[2]"
            _envd_xs2
        else if test "$_envd_xn" = "$_envd_xks[3]"
            _envd_xs3
        else if test "$_envd_xn" = "$_envd_xks[4]"
            _envd_xs4
        else
            _envd_apply_make
        end
    end
    if test -n "$_envd_rk" -a "$_envd_rk" != "$_envd_kline"
        set -g _envd_kline $_envd_rk
        set -g _envd_markers (string split -n : -- $_envd_rk)
        set -g _envd_fw
    end
end

# The function for this set of names, in the next slot, run: `set -gx NAME VALUE` for each
# with the value at its position in _envd_xv.
function _envd_apply_make
    set -l _envd_s
    set -l _envd_i 0
    for _envd_y in $_envd_xn
        set _envd_i (math $_envd_i + 1)
        # fish keeps PATH and CDPATH as lists: the empty value is the empty list.
        if contains -- $_envd_y PATH CDPATH
            set -a _envd_s "if test -n \"\$_envd_xv[$_envd_i]\"; set -gx $_envd_y \"\$_envd_xv[$_envd_i]\"; else; set -gx $_envd_y; end"
        else
            set -a _envd_s "set -gx $_envd_y \"\$_envd_xv[$_envd_i]\""
        end
    end
    set -g _envd_xki (math $_envd_xki % 4 + 1)
    eval "function _envd_xs$_envd_xki; "(string join '; ' -- $_envd_s)"; end"
    set -g _envd_xks[$_envd_xki] "$_envd_xn"
    _envd_xs$_envd_xki
end

# _envd_apply's other case, one name at a time: $argv[1] is 1 when every name was found
# fine; else each is checked, and one that is not a plain name is skipped.
function _envd_apply_each
    set -l _envd_ok $argv[1]
    for _envd_y in $_envd_un
        if test -n "$_envd_ok"; or begin
                string match -qr '^[A-Za-z_][A-Za-z0-9_]*$' -- $_envd_y; and not string match -q -- '_envd_*' $_envd_y
            end
            set -e -g $_envd_y
        end
    end
    for _envd_y in $_envd_xn
        set -l _envd_z $_envd_xv[1]
        set -e _envd_xv[1]
        if test -n "$_envd_ok"; or begin
                string match -qr '^[A-Za-z_][A-Za-z0-9_]*$' -- $_envd_y; and not string match -q -- '_envd_*' $_envd_y
            end
            # fish keeps PATH and CDPATH as lists: the empty value is the empty list.
            if test -n "$_envd_z"; or not contains -- $_envd_y PATH CDPATH
                set -gx $_envd_y $_envd_z
            else
                set -gx $_envd_y
            end
        end
    end
end

# ---- fallback -------------------------------------------------------------------------
# `envd export fish` (a Node process: ~50 ms; it starts the daemon when none runs). Its
# output is fish code whose every value is quoted by envd's proven quoter.
# With an unsafe runtime dir, in-process (ENVD_NO_DAEMON=1 for that command: the CLI
# then does not touch the dir, nor warn about it at every prompt; this shell warned once).
function _envd_fallback
    set -l _envd_b --budget $_envd_wait
    # Found unsafe by its modes: this path starts a process anyway, so look again (it may
    # have been fixed).
    if test "$_envd_rok" = 0
        set -g _envd_rok ''
        _envd_rdir
    end
    set -l _envd_o
    set -l _envd_st 0
    set -g _envd_try $_envd_key
    # The environment is the CLI's to change now: no plan vouches for it any more.
    set -g _envd_pn
    if contains -- "$_envd_rok" 0 -
        # In-process nothing would finish a slow evaluation later: wait.
        _envd_rwarn
        set _envd_o (ENVD_NO_DAEMON=1 $_envd_bin export fish | string collect)
        set _envd_st $pipestatus[1]
    else
        test "$ENVD_NO_DAEMON" = 1; and set _envd_b
        set _envd_o ($_envd_bin export fish $_envd_b | string collect)
        set _envd_st $pipestatus[1]
    end
    # Killed by a signal (Ctrl-C): left noted, as when this function is cancelled.
    test "$_envd_st" -gt 128; or set -g _envd_try ''
    if test "$_envd_st" -le 1 -a -n "$_envd_o"
        printf '%s\n' $_envd_o | source
    end
    set -g _envd_rg ''
    # The CLI may just have made the runtime dir (and started the daemon): check it first.
    if _envd_rdir; and test -r $_envd_genfile
        read -g _envd_rg <$_envd_genfile
    end
end

# ---- hook -----------------------------------------------------------------------------
function _envd_unanswered
    if test -z "$_envd_warned"
        set -g _envd_warned 1
        printf '%s\n' "envd: the daemon did not answer in time; environment unchanged (trying again at the next prompt)" >&2
    end
end

# 0 when a file the loaded state depends on may have changed since the stamp (an edit,
# `envd allow`, `envd reload`...): builtin tests, a few stats, no process. "The stamp is
# not newer", not "the file is newer": fish compares whole seconds, so a write in the
# stamp's own second counts as a change (asked once more; once the second is over the
# stamp moves past it). A file that was not there (a watch_file target, a config file)
# must still not be: it counts when it appears, whatever its mtime (an archive unpacked).
# One `test` for all of them: _envd_tv is `-n x -a STAMP -nt FILE -a ! -e FILE ...`
# (`-n x`, true, alone when there are none: never empty, so it can end a longer test),
# made when the list changes (_envd_deps_set); a builtin call costs more than its stats.
function _envd_stale
    not test $_envd_tv
end

# _envd_deps and _envd_tv := $argv.
function _envd_deps_set
    set -g _envd_deps $argv
    set -g _envd_tv -n x
    for _envd_x in $argv
        if test -e $_envd_x -o -L $_envd_x
            set -a _envd_tv -a $_envd_stamp -nt $_envd_x
        else
            set -a _envd_tv -a ! -e $_envd_x
        end
    end
end

# The stamp, rewritten before each request: whatever is written after it (the next
# command's edits) is newer. A builtin redirection. Made owner-only whatever the umask,
# once per shell (one process; never on an idle prompt).
function _envd_touch
    test -d $_envd_run/sh -a ! -L $_envd_run/sh; or return 0
    if test -f $_envd_stamp -a ! -L $_envd_stamp -a -O $_envd_stamp
        true >$_envd_stamp
    else if test -z "$_envd_fifos$_envd_wpid" -a -p $_envd_run/hook.fifo -a -d /proc/self/fd
        # The watchdog about to be started makes it (that one process).
    else
        command sh -c 'umask 077 && rm -f -- "$1" && : >"$1"' sh $_envd_stamp 2>/dev/null
    end
end

# $argv[1]: the generation just read; $argv[2]: 1 when a dependency may have changed.
# Decide with builtins whether to ask; ask; apply.
function _envd_check
    _envd_find
    # Ctrl-C during `envd export` (a slow .envrc without a daemon) cancels this function,
    # and the next prompt would start the same wait again: the prompt would never come
    # back. So what it ran for is noted before, and found still there after an interrupt:
    # hold until the directory, the file or the generation changes.
    set -g _envd_key "$PWD"\n"$_envd_f"\n"$argv[1]"
    if test "$_envd_try" = "$_envd_key" -o "$_envd_held" = "$_envd_key"
        if test "$_envd_try" = "$_envd_key"
            set -g _envd_try ''
            set -g _envd_held $_envd_key
            printf '%s\n' "envd: interrupted; environment unchanged here (cd in again to retry)" >&2
        end
        set -g _envd_pwd $PWD
        set -g _envd_gen $argv[1]
        set -g _envd_found $_envd_f
        return 0
    end
    set -g _envd_held ''
    # Without a daemon (ENVD_NO_DAEMON=1, or an unsafe runtime dir) there is no generation
    # to say that an approval or an edit happened: inside a project every prompt asks
    # `envd export`, as direnv does.
    # Moving within the loaded project (same file) does not run it again, as direnv.
    if test -z "$argv[2]" -a "$_envd_f" = "$_envd_found" -a "$argv[1]" = "$_envd_gen" -a "$ENVD_NO_DAEMON" != 1
        and not contains -- "$_envd_rok" 0 -
        or test -z "$_envd_f" -a -z "$DIRENV_DIR" -a -z "$DIRENV_FILE" -a -z "$ENVD_DIFF"
        set -g _envd_pwd $PWD
        set -g _envd_gen $argv[1]
        set -g _envd_found $_envd_f
        return 0
    end
    # Leaving for a directory without an env file, nothing newer than the stamp: the last
    # answer's leave plan, when the shell is still as it left it (no request).
    if test -z "$_envd_f" -a -z "$argv[2]"; and set -q _envd_pn[1]; and _envd_leave
        set -g _envd_deps
        set -g _envd_tv -n x
        set -g _envd_pwd $PWD
        set -g _envd_gen $argv[1]
        set -g _envd_found ''
        return 0
    end
    # _envd_deps_set with no files, written out (a call that opens a loop costs more).
    set -g _envd_deps
    set -g _envd_tv -n x
    # Ctrl-C while the daemon works cancels this function as soon as the watchdog has
    # unblocked the read (`i`): noted (_envd_try) as for `envd export` below.
    # The usual case first, in one builtin: the runtime dir known safe, the stamp there
    # (_envd_rdir and _envd_touch written out), this shell's pair and watchdog there
    # (_envd_ask's usual case).
    if test "$ENVD_NO_DAEMON" != 1 -a "$_envd_rok" = 1 -a ! -L $_envd_run -a -d $_envd_run -a -O $_envd_run -a -d $_envd_run/sh -a ! -L $_envd_run/sh -a -f $_envd_stamp -a ! -L $_envd_stamp -a -O $_envd_stamp -a -p $_envd_run/hook.fifo -a -f $_envd_run/hook.pid -a -n "$_envd_wpid" -a -p /proc/$_envd_wpid/fd/5 -a -p "$_envd_pair.req"
        true >$_envd_stamp
        set -g _envd_try $_envd_key
        _envd_fifo_ask
    else
        test "$_envd_rok" = 1 -a ! -L $_envd_run -a -d $_envd_run -a -O $_envd_run -a -d $_envd_run/sh -a ! -L $_envd_run/sh -a -f $_envd_stamp -a ! -L $_envd_stamp -a -O $_envd_stamp
        and true >$_envd_stamp
        or begin
            _envd_rdir; and _envd_touch
        end
        set -g _envd_try $_envd_key
        _envd_ask
    end
    set -l _envd_st $status
    set -g _envd_try ''
    switch $_envd_st
        case 0
            # The answer's files and leave plan are kept already (_envd_parse_joined).
            _envd_apply
            set -g _envd_warned ''
            _envd_deps_set $_envd_deps
        case 1
            _envd_unanswered
            # Asked again at the next prompt (the stamp has moved past what was not seen yet).
            set -g _envd_gen -
            return 0
        case 4
            # Ctrl-C (when it did not cancel this function): held here until the
            # directory, the file or the generation changes (the evaluation's end moves
            # it: the answer is then ready at once).
            printf '%s\n' "envd: interrupted; environment unchanged here (cd in again to retry)" >&2
            set -g _envd_held $_envd_key
            set -g _envd_pwd $PWD
            set -g _envd_gen $argv[1]
            set -g _envd_found $_envd_f
            return 0
        case 3
            # `v`: this daemon will not serve this shell (another HOME or config, another
            # hook version). Its generation says nothing about this shell's files (its own
            # `envd allow` does not move it), so inside a project the next prompt asks again.
            _envd_fallback
            set -g _envd_rg ''
        case '*'
            _envd_fallback
    end
    set -g _envd_pwd $PWD
    set -g _envd_gen $_envd_rg
    set -g _envd_found $_envd_f
end

# The leave plan: what the daemon answers a shell in the state its last answer left this
# one in, on leaving for a directory where no env file is found (src/daemon/leave-plan.ts).
# That answer depends only on the names in the plan and on the config (a dependency: newer
# than the stamp, the daemon is asked). So while every one of them is exported with the
# value it had then (`=VALUE`; fish's own join, as the request sends it) or not exported
# (`-`), applying the plan here is applying that answer. 0: applied; 1: something differs
# (a value changed by hand, another hook's state): ask.
# A loop over the names cost a few commands a name (~0.3 ms for a project's ten); instead
# each shape of plan (its names, the kind of each NOW and of each THEN) gets a function
# that checks and applies it in a few commands, made (eval) the first time that shape is
# seen; the last 4 are kept (_envd_lks), as the requests' are (_envd_env). The values are
# not in its text: it reads them from the plan's lists by position.
set -g _envd_lks # "NAMES|NOW KINDS|THEN KINDS" of _envd_lp1 .. _envd_lp4
set -g _envd_lki 0 # the slot made last
function _envd_leave
    # The three lists are as long (one match of one regex gives an element to each) and a
    # kind is one character or none: this string gives back the lists it was made of. The
    # names are checked when a function is made for them (_envd_leave_make).
    set -l _envd_j "$_envd_pn|$_envd_pv|$_envd_pk"
    if test "$_envd_j" = "$_envd_lks[1]"
        _envd_lp1; or return 1
    else if test "$_envd_j" = "$_envd_lks[2]"
        _envd_lp2; or return 1
    else if test "$_envd_j" = "$_envd_lks[3]"
        _envd_lp3; or return 1
    else if test "$_envd_j" = "$_envd_lks[4]"
        _envd_lp4; or return 1
    else
        _envd_leave_make $_envd_j; or return 1
        _envd_lp$_envd_lki; or return 1
    end
    set -g _envd_pn
end

# The function for the plan's shape ($argv[1]), in the next slot: `set -qx` of every name
# that must be exported (its status is the number that are not) and one `test` of all
# their values; one `set -qx` of those that must not be (all of them missing); the
# messages; one `set -e` for those unset; one `set -gx` for each set. 1: a NOW that is
# neither `-` nor `=VALUE` (never matches: ask).
function _envd_leave_make
    string match -qrv '^(?!_envd_)[A-Za-z_][A-Za-z0-9_]*$' -- $_envd_pn; and return 1
    contains -- '' $_envd_pv; and return 1
    test (count $_envd_pn) -eq (count $_envd_pv) -a (count $_envd_pn) -eq (count $_envd_pk); or return 1
    set -l _envd_x # names that must be exported with their value
    set -l _envd_c # the comparisons, joined by -a
    set -l _envd_u # names that must not be exported
    set -l _envd_e # names unset
    set -l _envd_s # statements setting names
    set -l _envd_i 0
    for _envd_y in $_envd_pn
        set _envd_i (math $_envd_i + 1)
        if test "$_envd_pv[$_envd_i]" = =
            set -q _envd_x[1]; and set -a _envd_c -a
            set -a _envd_x $_envd_y
            set -a _envd_c "\"=\$$_envd_y\" = \"\$_envd_pw[$_envd_i]\""
        else
            set -a _envd_u $_envd_y
        end
        switch "$_envd_pk[$_envd_i]"
            case -
                set -a _envd_e $_envd_y
            case =
                # fish keeps PATH and CDPATH as lists: the empty value is the empty list.
                if contains -- $_envd_y PATH CDPATH
                    set -a _envd_s "if test -n \"\$_envd_pt[$_envd_i]\"; set -gx $_envd_y \"\$_envd_pt[$_envd_i]\"; else; set -gx $_envd_y; end"
                else
                    set -a _envd_s "set -gx $_envd_y \"\$_envd_pt[$_envd_i]\""
                end
        end
    end
    set -l _envd_t
    set -q _envd_x[1]; and set -a _envd_t "set -qx $_envd_x; and test $_envd_c; or return 1"
    set -q _envd_u[1]; and set -a _envd_t "set -qx $_envd_u; test \$status = "(count $_envd_u)"; or return 1"
    set -a _envd_t 'set -q _envd_pm[1]; and printf "%s\n" $_envd_pm >&2'
    set -q _envd_e[1]; and set -a _envd_t "set -e -g $_envd_e"
    set -g _envd_lki (math $_envd_lki % 4 + 1)
    eval "function _envd_lp$_envd_lki; "(string join '; ' -- $_envd_t $_envd_s)"; end"
    set -g _envd_lks[$_envd_lki] $argv[1]
end

# The note, rewritten just before the generation file is read: made owner-only here the
# first time (builtins: fish's own umask), and only ever rewritten when it is this user's
# regular file. 0 when it was written.
function _envd_mark
    test -f "$_envd_note" -a ! -L "$_envd_note" -a -O "$_envd_note"; and true >$_envd_note; and return 0
    test -d $_envd_run/sh -a ! -L $_envd_run/sh -a -O $_envd_run/sh -a ! -e "$_envd_note" -a ! -L "$_envd_note"; or return 1
    set -l _envd_um (umask)
    umask 077
    true >$_envd_note
    umask $_envd_um
    return 1
end

# The prompt hook (fish_prompt event and PWD changes). Keeps $status (fish keeps it for
# event handlers anyway; this is for scripts that call the function). The idle prompt's
# test, which reads no file, is made before it is called (_envd_on_prompt, below).
function _envd_hook
    set -l _envd_s $status
    set -g _envd_noted ''
    set -l _envd_g ''
    set -l _envd_o ''
    # The generation file only from a safe runtime dir (one of another user's could be a
    # FIFO that never opens). Known safe: _envd_rdir's tests in one builtin call.
    # (_envd_stale written out: a function call costs more than the test.)
    if test "$_envd_rok" = 1 -a ! -L $_envd_run -a -d $_envd_run -a -O $_envd_run -a -r $_envd_genfile
        # Not after a cd (argv[1] p): $PWD changed, so the note would vouch for nothing.
        test "$argv[1]" != p; and _envd_mark; and set _envd_o n
        read _envd_g <$_envd_genfile
        test "$_envd_o" = n -a "$_envd_g" = "$_envd_gen"; and set -g _envd_noted $_envd_g
        set _envd_o ''
        not test $_envd_tv; and set _envd_o 1
    else if _envd_rdir
        test -r $_envd_genfile; and read _envd_g <$_envd_genfile
        _envd_stale; and set _envd_o 1
    end
    if test -n "$_envd_o" -o "$PWD" != "$_envd_pwd" -o "$_envd_g" != "$_envd_gen" -o "$ENVD_NO_DAEMON" = 1 -o "$_envd_rok" = 0 -o "$_envd_rok" = -
        set -g _envd_noted ''
        _envd_check $_envd_g $_envd_o
    end
    return $_envd_s
end

# ---- register -------------------------------------------------------------------------
# Defining a function again replaces it: loading the hook twice registers it once.
# The watchdog goes with the shell (it also looks every 10 s).
function _envd_on_exit --on-event fish_exit
    _envd_pair_drop
end
if status is-interactive
    # The idle prompt (same $PWD, nothing changed) reads no file, as in ../bash/hook.bash:
    # the note is rewritten just before the generation file is read (_envd_hook) and, when
    # what was read is the generation applied here, vouches for it while it stays newer (a
    # later write of the file leaves an mtime no older than the note's). Nothing is opened
    # on that path, so it needs no runtime-dir check. Tested here rather than in
    # _envd_hook: a fish function call costs more than the test.
    function _envd_on_prompt --on-event fish_prompt
        test -z "$_envd_skip" -a "$PWD" = "$_envd_pwd" -a -n "$_envd_noted" -a "$_envd_noted" = "$_envd_gen" -a "$ENVD_NO_DAEMON" != 1 -a "$_envd_note" -nt "$_envd_genfile" -a $_envd_tv
        and return
        # After a cd the PWD handler saw through (_envd_skip a): it asked already if there
        # was anything to ask, so only what may have changed since is looked at (the
        # generation, the files), with a builtin test and one read.
        test "$_envd_skip" = a -a "$PWD" = "$_envd_pwd" -a "$ENVD_NO_DAEMON" != 1 -a "$_envd_rok" = 1 -a ! -L $_envd_run -a -d $_envd_run -a -O $_envd_run -a -r $_envd_genfile -a $_envd_tv
        and read -l _envd_g <$_envd_genfile
        and test "$_envd_g" = "$_envd_gen"
        and set -g _envd_skip ''
        and return
        test "$_envd_skip" = 1; and set -g _envd_skip ''; and return
        set -g _envd_skip ''
        _envd_hook
    end
    # `cd proj; and cmd` sees the project's environment. When the daemon did not answer,
    # the prompt that follows does not wait for it a second time (_envd_skip 1).
    function _envd_on_pwd --on-variable PWD
        # `_envd_hook p` written out for its usual case (the runtime dir known safe, a
        # daemon wanted): a call costs more than the commands it saves.
        set -g _envd_noted ''
        if test "$_envd_rok" = 1 -a ! -L $_envd_run -a -d $_envd_run -a -O $_envd_run -a -r $_envd_genfile -a "$ENVD_NO_DAEMON" != 1
            read -l _envd_g <$_envd_genfile
            if test $_envd_tv
                test "$PWD" != "$_envd_pwd" -o "$_envd_g" != "$_envd_gen"; and _envd_check $_envd_g ''
            else
                _envd_check $_envd_g 1
            end
        else
            _envd_hook p
        end
        test "$_envd_pwd" = "$PWD"; and set -g _envd_skip a; or set -g _envd_skip 1
    end
end
# Loaded again in a shell that has its pair already: _envd_pair_up will not run again.
test -n "$_envd_wpid"; and _envd_redefine
