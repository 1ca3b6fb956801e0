# envd prompt hook for elvish (0.18 or later).
# Load it from ~/.config/elvish/rc.elv with:   eval (envd hook elvish | slurp)
# (or save it once as ~/.config/elvish/lib/envd.elv and `use envd` there).
#
# Before every prompt (edit:before-readline): when the directory and the daemon's
# generation number are what this shell saw last, return at once. Reading the number is
# a builtin redirection (slurp <): no process is started on an idle prompt. After a cd:
# walk up looking for the marker files (.envrc...) with path: builtins; the same file as
# last time and the same generation: return. Otherwise one round trip to the daemon's
# socket (`env -0 | nc -U`: two processes of a few ms), or when that cannot be done
# `envd export elvish` (Node, ~50-100 ms or more; it starts the daemon when none runs,
# and waits for a slow file only as long as the daemon's budget), whose output is elvish
# code of one `if $true { }` block: `set-env "NAME" "VALUE"` with every value a
# double-quoted string (no interpolation in elvish), so a cut-off answer is a parse error
# and applies nothing.
#
# The same sections are in the bash, zsh and fish hooks. Everything here is named
# _envd_*: the state lives in this code's own variables, never in the environment.

use math
use path
use re
use str

# ---- settings -------------------------------------------------------------------------
var _envd_bin = @ENVD_BIN@
var _envd_kline = @ENVD_MARKERS@
var _envd_markers = [(str:split : $_envd_kline | each {|m| if (!=s $m '') { put $m } })]
# The daemon's budget in ms: `envd export` waits this long for a slow file, then the
# daemon goes on evaluating and moves the generation when it is done.
var _envd_wait = 200

# ---- paths ----------------------------------------------------------------------------
# The runtime dir exactly as src/config/paths.ts computes it, once, when the hook is
# loaded. elvish has no $UID: one `id -u`, at load time only, and only without
# ENVD_RUNTIME_DIR and XDG_RUNTIME_DIR.
fn _envd_env {|n| if (has-env $n) { get-env $n } else { put '' } }
fn _envd_noslash {|p| if (and (str:has-suffix $p /) (!=s $p /)) { put $p[..-1] } else { put $p } }
var _envd_run = (
  if (!=s (_envd_env ENVD_RUNTIME_DIR) '') {
    put $E:ENVD_RUNTIME_DIR
  } elif (!=s (_envd_env XDG_RUNTIME_DIR) '') {
    put (_envd_noslash $E:XDG_RUNTIME_DIR)/envd
  } else {
    var t = /tmp
    for v [TMPDIR TMP TEMP] {
      if (!=s (_envd_env $v) '') { set t = (get-env $v); break }
    }
    put (_envd_noslash $t)/envd-(e:id -u)
  }
)
var _envd_genfile = $_envd_run/generation

# ---- state ----------------------------------------------------------------------------
var _envd_pwd = ''           # $pwd at the last check
var _envd_gen = ''           # generation seen after the last answer ('-': ask again)
var _envd_found = '-'        # marker file found at the last check ('' none, '-' unknown)
var _envd_nc = ''            # nc to use ('' not probed yet, '-' none)
var _envd_n = 0              # request counter (ids)
var _envd_rgen = ''          # generation of the last answer
var _envd_rdeps = []         # the last answer's `f` records
var _envd_snap = $nil        # fingerprint of the files the loaded state depends on
var _envd_warned = $false    # warned that the daemon does not answer

# ---- runtime dir ----------------------------------------------------------------------
# The daemon's files are used only from a runtime dir that is this user's, 0700 and not a
# symlink, in a parent where no other user can rename it away (sticky like /tmp, or
# writable by its owner, this user or root, alone: a group-writable parent only when its
# group is this user's). Without XDG_RUNTIME_DIR it is $TMPDIR/envd-UID, which another user
# may have made first, with a listener of theirs in it: then this shell sends nothing
# there, reads nothing from it, and works without the daemon (`envd export` in-process,
# ENVD_NO_DAEMON=1), with one warning. That it is a directory and not a symlink is a
# builtin test, made before every use. elvish 0.19 cannot see an owner or a mode without
# a process: one stat(1) when the dir is first seen (again after it was gone, or before a
# fallback while it is unsafe), never on an idle prompt. Between two looks nobody else can
# change anything: only the owner changes a dir's mode, and the parent's check means only
# this user or root can rename it.
var _envd_rok = ''           # '' not checked, 1 safe, 0 unsafe
var _envd_rwhy = ''          # what is wrong with it
var _envd_rwarned = $false   # warned that it is unsafe (once per shell)

# This process's effective uid and gid: /proc (a builtin read), else id(1).
fn _envd_ids {
  var s = (try { slurp < /proc/self/status } catch { put '' })
  var u = [(re:find '(?m)^Uid:\s+\d+\s+(\d+)' $s)]
  var g = [(re:find '(?m)^Gid:\s+\d+\s+(\d+)' $s)]
  if (and (> (count $u) 0) (> (count $g) 0)) {
    put $u[0][groups][1][text] $g[0][groups][1][text]
  } else {
    put (try { e:id -u } catch { put - }) (try { e:id -g } catch { put - })
  }
}

# The owner, group and mode of the runtime dir (not followed) and of its parent (followed),
# with one stat(1) (GNU, else BSD). Sets _envd_rok to 1 or 0. elvish has no bitwise
# operators: the modes are compared digit by digit, as octal text.
fn _envd_rstat {
  var p = (path:dir $_envd_run)/
  var o = (try { e:stat -c '%u %g %a' -- $_envd_run $p 2>/dev/null | slurp } catch { put '' })
  if (==s $o '') { set o = (try { e:stat -f '%u %g %Mp%Lp' -- $_envd_run $p 2>/dev/null | slurp } catch { put '' }) }
  var a = [(str:split ' ' (re:replace '\s+' ' ' (str:trim-space $o)))]
  var uid gid = (_envd_ids)
  set _envd_rok = 0
  if (or (!= (count $a) 6) (not (re:match '^[0-9]+( [0-9]+){5}$' (str:join ' ' $a))) (not (re:match '^[0-9]+$' $uid))) {
    set _envd_rwhy = 'cannot be checked (stat failed)'
  } elif (!=s $a[0] $uid) {
    set _envd_rwhy = 'is owned by another user'
  } elif (not (re:match '^0*[0-7]?700$' $a[2])) {
    set _envd_rwhy = 'has mode '$a[2]', not 700'
  } elif (and (!=s $a[3] 0) (!=s $a[3] $uid)) {
    set _envd_rwhy = 'is in a directory owned by another user'
  } elif (and (not (re:match '[1357][0-7]{3}$' $a[5])) (or (re:match '[2367]$' $a[5]) (and (re:match '[2367][0-7]$' $a[5]) (!=s $a[4] $gid)))) {
    # Not sticky, and writable by others (or by a group that is not this user's own).
    set _envd_rwhy = 'is in a directory that other users can write to and that is not sticky'
  } else {
    set _envd_rok = 1
    set _envd_rwhy = ''
  }
}

# $true when the runtime dir can be used now; $false when it cannot (absent, or unsafe).
fn _envd_rdir {
  if (not (path:is-dir &follow-symlink=$false $_envd_run)) {
    if (path:is-dir $_envd_run) {
      set _envd_rok _envd_rwhy = 0 'is a symlink'
    } elif (path:is-regular $_envd_run) {
      set _envd_rok _envd_rwhy = 0 'is not a directory'
    } else {
      set _envd_rok = ''
    }
    put $false
    return
  }
  # Not checked yet, or found unsafe by its type only (now a directory): stat it.
  if (or (==s $_envd_rok '') (has-key [&'is a symlink'=$true &'is not a directory'=$true] $_envd_rwhy)) { _envd_rstat }
  put (==s $_envd_rok 1)
}

# The one warning (the path shown as elvish quotes it: no raw control characters).
fn _envd_rwarn {
  if $_envd_rwarned { return }
  set _envd_rwarned = $true
  echo 'envd: runtime dir '(repr $_envd_run)' '$_envd_rwhy'; not using it: this shell works without the daemon (remove it, or set ENVD_RUNTIME_DIR to a private directory)' >&2
}

# The generation number, or '' when there is none to read. Only from a safe runtime dir
# and a generation file that is a regular file: a FIFO put there would never open.
# `N+poll` (the daemon cannot watch files): '-', so inside a project every prompt asks,
# as direnv does.
fn _envd_readgen {
  if (and (_envd_rdir) (path:is-regular $_envd_genfile)) {
    var g = ''
    try { set g = (str:trim-space (slurp < $_envd_genfile)) } catch { }
    if (str:contains $g +) { put - } else { put $g }
  } else {
    put ''
  }
}

# ---- find -----------------------------------------------------------------------------
# The nearest marker file at or above $pwd ('' when there is none).
fn _envd_find {
  var d = $pwd
  while $true {
    for m $_envd_markers {
      var f = (if (==s $d /) { put /$m } else { put $d/$m })
      if (path:is-regular &follow-symlink=$true $f) { put $f; return }
    }
    if (or (==s $d /) (not (str:has-prefix $d /))) { put ''; return }
    set d = (path:dir $d)
  }
}

# ---- ask ------------------------------------------------------------------------------
# One round trip over the daemon's socket (hook records, docs/architecture.md). elvish 0.19
# has no socket builtin and no way to list the environment: `env -0` and `nc -U` (OpenBSD
# netcat), two processes of a few ms instead of Node. Outputs ok (a whole answer,
# applied), none (a reply that is not one: nothing applied), or cli (use `envd export`: no
# daemon, no nc, no reply, or the daemon asks for it with `v`). Nothing is applied before
# `z ID` has been read; values are only ever data (set-env).
fn _envd_ask {|f|
  if (or (==s (_envd_env ENVD_NO_DAEMON) 1) (not (_envd_rdir))) { put cli; return }
  if (==s $_envd_nc '') {
    # Once per shell: an nc that has -U (a Unix socket) and -N (half-close).
    set _envd_nc = -
    var c = (try { search-external nc } catch { put '' })
    if (and (!=s $c '') (str:contains (try { $c -h 2>&1 } catch { } | slurp) -U)) { set _envd_nc = $c }
  }
  if (==s $_envd_nc -) { put cli; return }
  set _envd_n = (+ $_envd_n 1)
  var id = (to-string $_envd_n)
  var fl = ''
  if (and (==s (_envd_env NO_COLOR) '') (!=s (_envd_env TERM) dumb)) { set fl = c }
  # n: entering (another file than at the last check): run the file afresh, as direnv.
  if (!=s $f $_envd_found) { set fl = $fl'n' }
  var kv = [(try { e:env -0 } catch { } | slurp | str:split "\x00" (one) | each {|e|
    var i = (str:index $e =)
    if (> $i 0) { put $e[0..$i] $e[(+ $i 1)..] }
  })]
  var t = (to-string (exact-num (math:ceil (/ (+ $_envd_wait 500) 1000))))
  var req = (str:join "\x00" [ENVD-HOOK 1 $id elvish $fl $pwd $@kv ''])"\x00"
  var out = (try { print $req | (external $_envd_nc) -w $t -U -N $_envd_run/daemon.sock 2>/dev/null } catch { } | slurp)
  if (==s $out '') { put cli; return }
  var rep = [(str:split "\x00" $out)]
  var n = (count $rep)
  if (or (< $n 5) (!=s $rep[0] ENVD-HOOK) (!=s $rep[1] 1) (!=s $rep[2] $id)) { put none; return }
  var i = 3
  var sets = [&]
  var gone = []
  var msgs = []
  var gen = ''
  var deps = []
  var end = none
  while (< $i $n) {
    var k = $rep[$i]
    var a = (if (< (+ $i 1) $n) { put $rep[(+ $i 1)] } else { put '' })
    if (==s $k x) {
      if (>= (+ $i 2) $n) { break }
      set sets[$a] = $rep[(+ $i 2)]
      set i = (+ $i 3)
    } elif (==s $k u) { set gone = [$@gone $a]; set i = (+ $i 2)
    } elif (==s $k m) { set msgs = [$@msgs $a]; set i = (+ $i 2)
    } elif (==s $k g) { set gen = $a; set i = (+ $i 2)
    } elif (==s $k w) { if (re:match '^[0-9]{1,6}$' $a) { set _envd_wait = $a }; set i = (+ $i 2)
    } elif (==s $k f) { set deps = [$@deps $a]; set i = (+ $i 2)
    } elif (==s $k k) { set i = (+ $i 2)
    } elif (==s $k p) { set i = (+ $i 1)
    } elif (==s $k v) { set end = cli; break
    } elif (==s $k z) { if (and (==s $a $id) (< (+ $i 1) $n)) { set end = ok }; break
    } else { break }
  }
  if (!=s $end ok) { put $end; return }
  var name = '^[A-Za-z_][A-Za-z0-9_]*$'
  for m $msgs { echo $m >&2 }
  for g $gone { if (re:match $name $g) { unset-env $g } }
  for k [(keys $sets)] { if (re:match $name $k) { set-env $k $sets[$k] } }
  set _envd_rgen = $gen
  set _envd_rdeps = $deps
  put ok
}

# `envd export elvish`; its messages go to the terminal (stderr). Exit 1 (a blocked file)
# still carries the state to record: the output is applied whatever the status, and a
# cut-off one does not parse.
fn _envd_export {
  # Found unsafe: this path starts a process anyway, so look again (it may have been fixed).
  if (==s $_envd_rok 0) { set _envd_rok = ''; nop (_envd_rdir) }
  # Without a daemon nothing would finish a slow file later: then it waits. With an
  # unsafe runtime dir, in-process (ENVD_NO_DAEMON=1: the CLI then does not touch the dir,
  # nor warn about it at every prompt; this shell warned once).
  var b = (if (==s (_envd_env ENVD_NO_DAEMON) 1) { put [] } else { put [--budget $_envd_wait] })
  var o = ''
  if (==s $_envd_rok 0) {
    _envd_rwarn
    tmp E:ENVD_NO_DAEMON = 1
    set o = (try { $_envd_bin export elvish } catch { } | slurp)
  } else {
    set o = (try { $_envd_bin export elvish $@b } catch { } | slurp)
  }
  if (!=s $o '') {
    try { eval $o } catch e { echo 'envd: the answer could not be applied: '(to-string $e[reason]) >&2 }
  }
}

# ---- edits at the next prompt ---------------------------------------------------------
# The generation moves once the daemon's watcher has seen an edit, often after the next
# prompt. elvish 0.19 cannot read a file's mtime without a process, so instead of a stamp
# the hook keeps the bytes of the answer's `f` files (the files the loaded state depends
# on) that are regular files when the answer is applied. At every prompt, one whose bytes
# differ, or that is no longer a regular file, means ask (builtins: path:is-regular,
# `slurp <`; never a read of anything but a regular file, which cannot block). Not seen at
# once (the watcher moves the generation a moment later): a listed file that did not exist
# and appears (looking for absent files costs elvish ~0.1 ms each), an mtime change alone
# (`envd reload`, `touch`), a change inside a watched directory, an edit made while the
# answer was on its way.
fn _envd_fingerprint {|deps|
  var files = [(each {|f| if (path:is-regular $f) { put $f } } $deps)]
  if (== (count $files) 0) { put $nil; return }
  put [&files=$files &bytes=[(each {|f| try { slurp < $f } catch { put "\x00?" } } $files)]]
}

# $true when a file the loaded state depends on may have changed since the answer.
fn _envd_stale {
  if (eq $_envd_snap $nil) { put $false; return }
  var i = 0
  for f $_envd_snap[files] {
    if (not (path:is-regular $f)) { put $true; return }
    var b = (try { slurp < $f } catch { put "\x00?" })
    if (!=s $b $_envd_snap[bytes][$i]) { put $true; return }
    set i = (+ $i 1)
  }
  put $false
}

# ---- hook -----------------------------------------------------------------------------
fn _envd_check {|g stale|
  var f = (_envd_find)
  var nothing = (and (==s $f '') (==s (_envd_env DIRENV_DIR) '') (==s (_envd_env DIRENV_FILE) '') (==s (_envd_env ENVD_DIFF) ''))
  # Moving within the loaded project (same file, same generation) does not run it again,
  # as direnv; without a generation (no daemon) inside a project every prompt asks.
  if (or $nothing (and (not $stale) (==s $f $_envd_found) (==s $g $_envd_gen) (!=s $g '') (!=s $g -) (!=s (_envd_env ENVD_NO_DAEMON) 1))) {
    set _envd_pwd _envd_gen _envd_found = $pwd $g $f
    return
  }
  set _envd_snap = $nil
  set _envd_rdeps = []
  var r = (_envd_ask $f)
  if (==s $r none) {
    if (not $_envd_warned) {
      set _envd_warned = $true
      echo 'envd: the daemon did not answer in time; environment unchanged (trying again at the next prompt)' >&2
    }
    # Asked again at the next prompt.
    set _envd_pwd _envd_gen _envd_found = $pwd - $f
    return
  }
  # The generation kept: the answer's own (what it reflects), or for `envd export` the one
  # read before asking; a slow file that finishes later moves the file past either, so the
  # next prompt asks again. '-' from the file (the daemon cannot watch): every prompt asks.
  var g2 = $g
  if (==s $r cli) {
    _envd_export
  } else {
    set _envd_snap = (_envd_fingerprint $_envd_rdeps)
    if (and (!=s $_envd_rgen '') (!=s (_envd_readgen) -)) { set g2 = $_envd_rgen }
  }
  set _envd_warned = $false
  set _envd_pwd _envd_gen _envd_found = $pwd $g2 $f
}

fn _envd_hook {
  nop _envd_hook_marker   # how a second load of this file finds the first one
  var g = (_envd_readgen)
  # A file the loaded state depends on changed since the answer: ask (see above).
  var stale = (and (!=s $g '') (_envd_stale))
  if (or $stale (!=s $pwd $_envd_pwd) (!=s $g $_envd_gen) (==s $g '') (==s $g -) (==s (_envd_env ENVD_NO_DAEMON) 1)) {
    try { _envd_check $g $stale } catch e { echo 'envd: '(to-string $e[reason]) >&2 }
  }
}

# ---- register -------------------------------------------------------------------------
# First in before-readline (later hooks see the new environment), once: loading the hook
# again replaces the earlier one. The editor exists only in an interactive shell: through
# eval, so that this file also compiles, and can be `use`d, without one (elvish -c).
try {
  eval &ns=(ns [&hook~=$_envd_hook~]) '
    use str
    fn ours {|h| try { str:contains $h[def] _envd_hook_marker } catch { put $false } }
    set edit:before-readline = [$hook~ (each {|h| if (not (ours $h)) { put $h } } $edit:before-readline)]
  '
} catch { }
