# envd prompt hook for elvish (0.18 or later).
# Load it from ~/.config/elvish/rc.elv with:   eval (envd hook elvish | slurp)
# (or save it once as ~/.config/elvish/lib/envd.elv and `use envd` there).
#
# Before every prompt (edit:before-readline): when the directory and the daemon's
# generation number are what this shell saw last, return at once. Reading the number is
# a builtin redirection (slurp <): no process is started on an idle prompt. After a cd:
# walk up looking for the marker files (.envrc...) with path: builtins; the same file as
# last time and the same generation: return. Otherwise `envd export elvish` (a Node
# process, ~50-100 ms; it starts the daemon when none runs, and waits for a slow file
# only as long as the daemon's budget). Its output is elvish code of one `if $true { }`
# block: `set-env "NAME" "VALUE"` with every value a double-quoted string (no
# interpolation in elvish), so a cut-off answer is a parse error and applies nothing.
#
# The same sections are in the bash, zsh and fish hooks. Everything here is named
# _envd_*: the state lives in this code's own variables, never in the environment.

use path
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

# The generation number, or '' when there is none to read. Only from a runtime dir that is
# a directory (not a symlink) and a generation file that is a regular file: a FIFO put
# there would never open. (elvish 0.19 cannot see a file's owner without a process; the
# bash hook checks it with builtins.) `N+poll` (the daemon cannot watch files): '-', so
# inside a project every prompt asks, as direnv does.
fn _envd_readgen {
  if (and (path:is-dir $_envd_run) (path:is-regular $_envd_genfile)) {
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
# `envd export elvish`; its messages go to the terminal (stderr). Exit 1 (a blocked file)
# still carries the state to record: the output is applied whatever the status, and a
# cut-off one does not parse.
fn _envd_export {
  var o = (try { $_envd_bin export elvish --budget $_envd_wait } catch { } | slurp)
  if (!=s $o '') {
    try { eval $o } catch e { echo 'envd: the answer could not be applied: '(to-string $e[reason]) >&2 }
  }
}

# ---- hook -----------------------------------------------------------------------------
fn _envd_check {|g|
  var f = (_envd_find)
  var nothing = (and (==s $f '') (==s (_envd_env DIRENV_DIR) '') (==s (_envd_env DIRENV_FILE) '') (==s (_envd_env ENVD_DIFF) ''))
  # Moving within the loaded project (same file, same generation) does not run it again,
  # as direnv; without a generation (no daemon) inside a project every prompt asks.
  if (or $nothing (and (==s $f $_envd_found) (==s $g $_envd_gen) (!=s $g '') (!=s $g -) (!=s (_envd_env ENVD_NO_DAEMON) 1))) {
    set _envd_pwd _envd_gen _envd_found = $pwd $g $f
    return
  }
  _envd_export
  set _envd_pwd _envd_gen _envd_found = $pwd (_envd_readgen) $f
}

fn _envd_hook {
  nop _envd_hook_marker   # how a second load of this file finds the first one
  var g = (_envd_readgen)
  if (or (!=s $pwd $_envd_pwd) (!=s $g $_envd_gen) (==s $g '') (==s $g -) (==s (_envd_env ENVD_NO_DAEMON) 1)) {
    try { _envd_check $g } catch e { echo 'envd: '(to-string $e[reason]) >&2 }
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
