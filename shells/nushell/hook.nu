# envd prompt hook for nushell (0.100 or later).
# nushell sources only files it knows when it parses config.nu, so save the hook once:
#   envd hook nushell | save -f ~/.config/nushell/envd.nu
# and add to config.nu:   source ~/.config/nushell/envd.nu
#
# Before every prompt (hooks.pre_prompt): when the directory and the daemon's generation
# number are what this shell saw last, return at once. Reading the number is `open --raw`
# (a builtin): no process is started on an idle prompt. After a cd: walk up looking for
# the marker files (.envrc...) with `path type`; the same file as last time and the same
# generation: return. Otherwise `envd export nushell` (a Node process, ~50-100 ms; it
# starts the daemon when none runs and waits for a slow file only as long as the daemon's
# budget): a JSON object, NAME to value or null, applied with load-env and hide-env. No
# answer text is ever evaluated as code.
#
# The same sections are in the bash, zsh and fish hooks. The state is one record,
# $env._envd: nushell does not export a record to other programs.

# ---- settings -------------------------------------------------------------------------
const _envd_bin = @ENVD_BIN@
const _envd_kline = @ENVD_MARKERS@

# ---- paths ----------------------------------------------------------------------------
def _envd_noslash [p: string]: nothing -> string {
  if $p == '/' { $p } else { $p | str replace -r '/$' '' }
}

# The runtime dir exactly as src/config/paths.ts computes it, once, when the hook is
# loaded. nushell has no $UID: one `id -u`, at load time only, and only without
# ENVD_RUNTIME_DIR and XDG_RUNTIME_DIR.
def _envd_rundir []: nothing -> string {
  if ($env.ENVD_RUNTIME_DIR? | default '') != '' {
    $env.ENVD_RUNTIME_DIR
  } else if ($env.XDG_RUNTIME_DIR? | default '') != '' {
    (_envd_noslash $env.XDG_RUNTIME_DIR) + '/envd'
  } else {
    let t = ([$env.TMPDIR? $env.TMP? $env.TEMP?] | where {|v| $v != null and $v != '' } | append '/tmp' | first)
    (_envd_noslash $t) + '/envd-' + (^id -u | str trim)
  }
}

# The generation number, or '' when there is none to read. Only from a runtime dir that is
# a directory (not a symlink) and a generation file that is a regular file: a FIFO put
# there would never open. `N+poll` (the daemon cannot watch files): '-', so inside a
# project every prompt asks, as direnv does.
def _envd_readgen [run: string]: nothing -> string {
  let gf = $run + '/generation'
  if ($run | path type | default '') != 'dir' or ($gf | path type | default '') != 'file' { return '' }
  let g = (try { open --raw $gf | decode utf-8 | str trim } catch { '' })
  if ($g | str contains '+') { '-' } else { $g }
}

# ---- find -----------------------------------------------------------------------------
# The nearest marker file at or above $env.PWD ('' when there is none). A symlink counts
# when it leads to a file, as for the other shells' `-f`.
def _envd_find [markers: list<string>] {
  mut d = $env.PWD
  loop {
    for m in $markers {
      let f = if $d == '/' { '/' + $m } else { $d + '/' + $m }
      let t = ($f | path type | default '')
      if $t == 'file' or ($t == 'symlink' and (($f | path expand | path type | default '') == 'file')) { return $f }
    }
    if $d == '/' or not ($d | str starts-with '/') { return '' }
    $d = ($d | path dirname)
  }
}

# ---- ask and apply --------------------------------------------------------------------
# `envd export nushell`; its messages are shown on stderr. Exit 1 (a blocked file) still
# carries the state to record, so the answer is applied whatever the status; one that is
# not a whole JSON object (cut off) applies nothing.
def --env _envd_export [] {
  let s = $env._envd
  let r = (do { ^$s.bin export nushell --budget ($s.wait | into string) } | complete)
  if $r.stderr != '' { print -e -n $r.stderr }
  if ($r.stdout | str trim) == '' { return }
  let c = (try { $r.stdout | from json } catch { null })
  if ($c | describe | str starts-with 'record') {
    let gone = ($c | columns | where {|k| ($c | get $k) == null })
    hide-env -i ...$gone
    load-env ($c | reject ...$gone)
    # nushell keeps PATH as a list (and joins it again for every program it runs):
    # back to a list, as the user's own config expects it.
    if ($c | get -o PATH) != null { $env.PATH = ($env.PATH | split row (char esep)) }
  } else {
    print -e 'envd: the answer could not be read; environment unchanged'
  }
}

# ---- hook -----------------------------------------------------------------------------
def --env _envd_hook [] {
  let s = $env._envd
  let g = (_envd_readgen $s.run)
  let nodaemon = ($env.ENVD_NO_DAEMON? | default '') == '1'
  let known = $g != '' and $g != '-' and not $nodaemon
  if $env.PWD == $s.pwd and $g == $s.gen and $known { return }
  let f = (_envd_find $s.markers)
  let nothing = $f == '' and ([$env.DIRENV_DIR? $env.DIRENV_FILE? $env.ENVD_DIFF?] | all {|v| ($v | default '') == '' })
  # Moving within the loaded project (same file, same generation) does not run it again,
  # as direnv; without a generation (no daemon) inside a project every prompt asks.
  if not $nothing and not ($f == $s.found and $g == $s.gen and $known) {
    _envd_export
    $env._envd = ($env._envd | merge {pwd: $env.PWD, gen: (_envd_readgen $s.run), found: $f})
  } else {
    $env._envd = ($env._envd | merge {pwd: $env.PWD, gen: $g, found: $f})
  }
}

# ---- register -------------------------------------------------------------------------
$env._envd = {
  bin: $_envd_bin
  markers: ($_envd_kline | split row ':' | where {|m| $m != '' })
  run: (_envd_rundir)
  # The daemon's budget in ms: `envd export` waits this long for a slow file, then the
  # daemon goes on evaluating and moves the generation when it is done.
  wait: 200
  pwd: ''
  gen: ''
  found: '-'
}
# First in pre_prompt (later hooks see the new environment), once: sourcing the file again
# replaces the earlier one.
$env.config.hooks.pre_prompt = (
  $env.config.hooks.pre_prompt? | default []
  | where {|h| ($h | describe) !~ '^closure' or not (view source $h | str contains '_envd_hook') }
  | prepend {|| _envd_hook }
)
