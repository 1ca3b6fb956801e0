# envd prompt hook for nushell (0.100 or later).
# nushell sources only files it knows when it parses config.nu, so save the hook once:
#   envd hook nushell | save -f ~/.config/nushell/envd.nu
# and add to config.nu:   source ~/.config/nushell/envd.nu
#
# Before every prompt (hooks.pre_prompt): when the directory and the daemon's generation
# number are what this shell saw last, return at once. Reading the number is `open --raw`
# (a builtin): no process is started on an idle prompt. After a cd: walk up looking for
# the marker files (.envrc...) with `path type`; the same file as last time and the same
# generation: return. Otherwise one round trip to the daemon's socket through `nc -U`
# (one process of a few ms; nushell has no socket builtin), or, when that cannot be done,
# `envd export nushell` (Node, ~50-100 ms or more; it starts the daemon when none runs and
# waits for a slow file only as long as the daemon's budget), a JSON object. Either way
# values are applied with load-env and hide-env: no answer text is evaluated as code.
#
# The same sections are in the bash, zsh and fish hooks. The state is one record,
# $env._envd: nushell does not export a record to other programs.

# ---- settings -------------------------------------------------------------------------
# Each placeholder sits in a list so that the file as shipped parses too (a bare word
# there is a string): the suite checks it with nu-check before substitution.
const _envd_bin = [@ENVD_BIN@].0
const _envd_kline = [@ENVD_MARKERS@].0

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

# ---- runtime dir ----------------------------------------------------------------------
# The daemon's files are used only from a runtime dir that is this user's, 0700 and not a
# symlink, in a parent where no other user can rename it away (sticky like /tmp, or
# writable by its owner, this user or root, alone: a group-writable parent only when its
# group is this user's). Without XDG_RUNTIME_DIR it is $TMPDIR/envd-UID, which another user
# may have made first, with a listener of theirs in it: then this shell sends nothing
# there, reads nothing from it, creates nothing in it, and works without the daemon
# (`envd export` in-process, ENVD_NO_DAEMON=1), with one warning. That it is a directory
# and not a symlink is a builtin test (`path type`) before every use; the owners, groups
# and modes need stat(1) (nushell's `ls -l` names users, not their ids): one process when
# the dir is first seen (again after it was gone, or before a fallback while it is
# unsafe), never on an idle prompt. Between two looks nobody else can change anything:
# only the owner changes a dir's mode, and the parent's check means only this user or
# root can rename it.
#
# The helpers below change nothing: they return what changed, and only _envd_hook writes
# $env. (A `def --env` that changes $env, called before a hide-env in the same chain of
# calls, keeps the hidden variable alive when the hook is called from a script: nushell
# 0.115, e.g. a benchmark calling the pre_prompt closures with `do --env`.)

# This process's effective uid and gid: /proc (a builtin read), else id(1).
def _envd_ids []: nothing -> list<string> {
  let s = (try { open --raw /proc/self/status | decode utf-8 } catch { '' })
  let u = ($s | parse -r '(?m)^Uid:\s+\d+\s+(?<v>\d+)' | get -o 0.v | default '')
  let g = ($s | parse -r '(?m)^Gid:\s+\d+\s+(?<v>\d+)' | get -o 0.v | default '')
  if $u != '' and $g != '' { [$u $g] } else {
    [(try { ^id -u | str trim } catch { '-' }) (try { ^id -g | str trim } catch { '-' })]
  }
}

# The owner, group and mode of the runtime dir (not followed) and of its parent (followed),
# with one stat(1) (GNU, else BSD): {rok: '1' or '0', rwhy}.
def _envd_rstat [run: string]: nothing -> record {
  let d = ($run | path dirname)
  let p = (if $d == '' { '.' } else { $d }) + '/'
  mut r = (do { ^stat -c '%u %g %a' -- $run $p } | complete)
  if $r.exit_code != 0 { $r = (do { ^stat -f '%u %g %Mp%Lp' -- $run $p } | complete) }
  let a = if $r.exit_code == 0 { $r.stdout | str trim | split row -r '\s+' } else { [] }
  let ids = (_envd_ids)
  let why = if ($a | length) != 6 or not (($a | str join ' ') =~ '^[0-9]+( [0-9]+){5}$') or not ($ids.0 =~ '^[0-9]+$') {
    'cannot be checked (stat failed)'
  } else if ($a | get 0) != $ids.0 {
    'is owned by another user'
  } else if not (($a | get 2) =~ '^0*[0-7]?700$') {
    'has mode ' + ($a | get 2) + ', not 700'
  } else if ($a | get 3) != '0' and ($a | get 3) != $ids.0 {
    'is in a directory owned by another user'
  } else if not (($a | get 5) =~ '[1357][0-7]{3}$') and ((($a | get 5) =~ '[2367]$') or ((($a | get 5) =~ '[2367][0-7]$') and ($a | get 4) != $ids.1)) {
    # Not sticky, and writable by others (or by a group that is not this user's own).
    'is in a directory that other users can write to and that is not sticky'
  } else { '' }
  {rok: (if $why == '' { '1' } else { '0' }), rwhy: $why}
}

# The runtime dir's state now, from the state `s`: {rok, rwhy}; rok '1' when it can be used
# ('' absent, '0' unsafe).
def _envd_rdir [s: record]: nothing -> record {
  let t = ($s.run | path type | default '')
  if $t == 'symlink' { return {rok: '0', rwhy: 'is a symlink'} }
  if $t == '' { return {rok: '', rwhy: ''} }
  if $t != 'dir' { return {rok: '0', rwhy: 'is not a directory'} }
  # Not checked yet, or found unsafe by its type only (now a directory): stat it.
  if $s.rok == '' or $s.rwhy in ['is a symlink' 'is not a directory'] { _envd_rstat $s.run } else { {rok: $s.rok, rwhy: $s.rwhy} }
}

# The generation number, or '' when there is none to read. Only from a safe runtime dir
# (`ok`) and a generation file that is a regular file: a FIFO put there would never open.
# `N+poll` (the daemon cannot watch files): '-', so inside a project every prompt asks,
# as direnv does.
def _envd_readgen [run: string, ok: bool]: nothing -> string {
  let gf = $run + '/generation'
  if not $ok or ($gf | path type | default '') != 'file' { return '' }
  let g = (try { open --raw $gf | decode utf-8 | str trim } catch { '' })
  if ($g | str contains '+') { '-' } else { $g }
}

# ---- edits at the next prompt ---------------------------------------------------------
# The generation moves once the daemon's watcher has seen an edit, often after the next
# prompt. So the hook keeps the answer's `f` list (the files the loaded state depends on)
# as a fingerprint taken when the answer is applied: the md5 of each one that is a file,
# and which ones did not exist. At every prompt, a file whose bytes differ, or one that
# has appeared, means ask (builtins: `open --raw`, `hash md5`, `path exists`; about
# 0.2 ms). nushell can read a file's mtime only through `ls`, which costs ~0.4 ms a file:
# comparing times with a stamp file, as bash does, would cost more than the rest of the
# prompt. What this does not see at once (the watcher does, a moment later): an mtime
# change alone (`envd reload`, `touch`), a change inside a watched directory, and an edit
# made while the answer was on its way.
def _envd_sums [files: list<string>]: nothing -> string {
  mut s = ''
  for f in $files { $s = $s + (try { open --raw $f | hash md5 } catch { '?' }) + ' ' }
  $s
}

# The fingerprint of `deps`, or null when there is nothing to watch.
def _envd_snap [deps: list<string>] {
  if ($deps | is-empty) { return null }
  let files = ($deps | where {|f| ($f | path type | default '') in ['file' 'symlink'] })
  let missing = ($deps | where {|f| not ($f | path exists) })
  {files: $files, sums: (_envd_sums $files), missing: $missing}
}

# true when a file the loaded state depends on may have changed since the answer.
def _envd_stale [snap]: nothing -> bool {
  if $snap == null { return false }
  if true in ($snap.missing | path exists) { return true }
  (_envd_sums $snap.files) != $snap.sums
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

# ---- ask ------------------------------------------------------------------------------
# `envd export nushell`, its messages shown on stderr. Exit 1 (a blocked file) still
# carries the state to record, so the answer is applied whatever the status; one that is
# not a whole JSON object (cut off) applies nothing. Returns {state, change (a record, or
# null)}; _envd_hook applies it.
def _envd_export [s: record]: nothing -> record {
  # Found unsafe: this path starts a process anyway, so look again (it may have been fixed).
  let rd = if $s.rok == '0' { _envd_rdir ($s | merge {rok: ''}) } else { {rok: $s.rok, rwhy: $s.rwhy} }
  # Without a daemon nothing would finish a slow file later: then it waits. With an
  # unsafe runtime dir, in-process (ENVD_NO_DAEMON=1: the CLI then does not touch the dir,
  # nor warn about it at every prompt; this shell warned once).
  let unsafe = $rd.rok == '0'
  if $unsafe and not $s.rwarned {
    print -e ('envd: runtime dir ' + ($s.run | to nuon) + ' ' + $rd.rwhy + '; not using it: this shell works without the daemon (remove it, or set ENVD_RUNTIME_DIR to a private directory)')
  }
  let state = ($rd | merge {rwarned: ($s.rwarned or $unsafe)})
  let b = if ($env.ENVD_NO_DAEMON? | default '') == '1' or $unsafe { [] } else { [--budget ($s.wait | into string)] }
  let r = if $unsafe {
    with-env {ENVD_NO_DAEMON: '1'} { do { ^$s.bin export nushell } | complete }
  } else {
    do { ^$s.bin export nushell ...$b } | complete
  }
  if $r.stderr != '' { print -e -n $r.stderr }
  if ($r.stdout | str trim) == '' { return {state: $state, change: null} }
  let c = (try { $r.stdout | from json } catch { null })
  if ($c | describe | str starts-with 'record') { return {state: $state, change: $c} }
  print -e 'envd: the answer could not be read; environment unchanged'
  {state: $state, change: null}
}

# One round trip over the daemon's socket (hook records, docs/architecture.md). nushell
# has no socket builtin: `nc -U` (OpenBSD netcat), one process of a few ms instead of
# Node; its idle timeout (-w) bounds the wait for a stopped daemon. Returns {end, state,
# change, msgs}: end 'ok' (a whole answer: change, a record of name to value or null, to
# apply), 'none' (no answer in time) or 'cli' (use `envd export`: no daemon or no nc, or
# the daemon asks for it with `v`); state, what to merge into $env._envd. Nothing is
# applied here; names are checked, values are only ever data.
def _envd_ask [s: record, f: string]: nothing -> record {
  if ($env.ENVD_NO_DAEMON? | default '') == '1' or $s.rok != '1' { return {end: 'cli', state: {}} }
  let sock = $s.run + '/daemon.sock'
  if ($sock | path type | default '') != 'socket' { return {end: 'cli', state: {}} }
  # Once per shell: an nc that has -U (a Unix socket) and -N (half-close).
  let nc = if $s.nc != '' { $s.nc } else {
    let c = (which nc | get -o 0.path | default '-')
    let ok = $c != '-' and ((do { ^$c -h } | complete | get stderr) | str contains '-U')
    if $ok { $c } else { '-' }
  }
  if $nc == '-' { return {end: 'cli', state: {nc: $nc}} }
  let n = $s.n + 1
  let id = ($n | into string)
  let state = {nc: $nc, n: $n}
  mut fl = ''
  if (is-terminal --stderr) and ($env.NO_COLOR? | default '') == '' and ($env.TERM? | default '') != 'dumb' { $fl = 'c' }
  # n: entering (another file than at the last check): run the file afresh, as direnv.
  if $f != $s.found { $fl = $fl + 'n' }
  # The environment as programs get it: strings, and PATH joined again. (`items` over the
  # record without nushell's `config`, whose type alone is a long description to build:
  # half the time of transpose + each.)
  let kv = ($env | reject -o config | items {|k, v|
    let d = ($v | describe)
    if $d == 'string' { [$k $v] } else if $k == 'PATH' and ($d | str starts-with 'list') { [$k ($v | str join (char esep))] } else { [] }
  } | flatten)
  let nul = (char nul)
  let req = ([ENVD-HOOK 1 $id nushell $fl $env.PWD] | append $kv | append '' | str join $nul) + $nul
  let t = (($s.wait + 1499) // 1000 | into string)
  let r = (do { $req | ^$nc -w $t -U -N $sock } | complete)
  if ($r.stdout | describe) != 'string' or $r.stdout == '' { return {end: (if $r.exit_code == 1 { 'cli' } else { 'none' }), state: $state} }
  let rep = ($r.stdout | split row $nul)
  let cnt = ($rep | length)
  if $cnt < 5 or ($rep | get 0) != 'ENVD-HOOK' or ($rep | get 1) != '1' or ($rep | get 2) != $id { return {end: 'none', state: $state} }
  mut i = 3
  mut sets = {}
  mut gone = []
  mut msgs = []
  mut gen = ''
  mut deps = []
  mut wait = $s.wait
  mut end = 'none'
  while $i < $cnt {
    let k = ($rep | get $i)
    let a = ($rep | get -o ($i + 1) | default '')
    if $k == 'x' {
      if $i + 2 >= $cnt { break }
      $sets = ($sets | merge {($a): ($rep | get ($i + 2))})
      $i += 3
    } else if $k == 'u' { $gone = ($gone | append $a); $i += 2
    } else if $k == 'm' { $msgs = ($msgs | append $a); $i += 2
    } else if $k == 'g' { $gen = $a; $i += 2
    } else if $k == 'w' { if $a =~ '^[0-9]{1,6}$' { $wait = ($a | into int) }; $i += 2
    } else if $k == 'f' { $deps = ($deps | append $a); $i += 2
    } else if $k == 'k' { $i += 2
    } else if $k == 'p' { $i += 1
    } else if $k == 'v' { $end = 'cli'; break
    } else if $k == 'z' { if $a == $id and $i + 1 < $cnt { $end = 'ok' }; break
    } else { break }
  }
  if $end != 'ok' { return {end: $end, state: $state} }
  # Whole and valid. Names are checked again here; values are only ever data.
  let name = '^[A-Za-z_][A-Za-z0-9_]*$'
  let ok = {|k| $k =~ $name and $k !~ '(?i)^_envd$' }
  let change = ($gone | where $ok | reduce -f ($sets | transpose k v | where {|r| do $ok $r.k } | reduce -f {} {|r, acc| $acc | merge {($r.k): $r.v} }) {|g, acc| $acc | merge {($g): null} })
  {end: 'ok', state: ($state | merge {wait: $wait, rgen: $gen}), change: $change, msgs: $msgs, deps: $deps}
}

# ---- hook -----------------------------------------------------------------------------
# The one place that changes the environment: a change record (name to value, null to
# unset), applied with hide-env and load-env.
def --env _envd_hook [] {
  let rd = (_envd_rdir $env._envd)
  $env._envd = ($env._envd | merge $rd)
  let g = (_envd_readgen $env._envd.run ($rd.rok == '1'))
  let s = $env._envd
  let nodaemon = ($env.ENVD_NO_DAEMON? | default '') == '1'
  # A file the loaded state depends on changed since the answer: ask (see "edits at the
  # next prompt").
  let known = $g != '' and $g != '-' and not $nodaemon and not (_envd_stale $s.snap)
  if $env.PWD == $s.pwd and $g == $s.gen and $known { return }
  let f = (_envd_find $s.markers)
  let nothing = $f == '' and ([$env.DIRENV_DIR? $env.DIRENV_FILE? $env.ENVD_DIFF?] | all {|v| ($v | default '') == '' })
  # Moving within the loaded project (same file, same generation) does not run it again,
  # as direnv; without a generation (no daemon) inside a project every prompt asks.
  if $nothing or ($f == $s.found and $g == $s.gen and $known) {
    $env._envd = ($env._envd | merge {pwd: $env.PWD, gen: $g, found: $f})
    return
  }
  let a = (_envd_ask $s $f)
  $env._envd = ($env._envd | merge {snap: null} | merge $a.state)
  if $a.end == 'none' {
    if not $env._envd.warned {
      print -e 'envd: the daemon did not answer in time; environment unchanged (trying again at the next prompt)'
      $env._envd = ($env._envd | merge {warned: true})
    }
    # Asked again at the next prompt.
    $env._envd = ($env._envd | merge {pwd: $env.PWD, gen: '-', found: $f})
    return
  }
  let c = if $a.end == 'ok' {
    for m in $a.msgs { print -e $m }
    $a.change
  } else {
    let e = (_envd_export $env._envd)
    $env._envd = ($env._envd | merge $e.state)
    $e.change
  }
  if $c != null {
    let gone = ($c | columns | where {|k| ($c | get $k) == null })
    hide-env -i ...$gone
    load-env ($c | reject ...$gone)
    # nushell keeps PATH as a list (and joins it again for every program it runs):
    # back to a list, as the user's own config expects it.
    if ($c | get -o PATH) != null { $env.PATH = ($env.PATH | split row (char esep)) }
  }
  if $a.end == 'ok' { $env._envd = ($env._envd | merge {snap: (_envd_snap $a.deps)}) }
  # The generation kept: the answer's own (what it reflects), or for `envd export` the
  # one read before asking; a slow file that finishes later moves the file past either,
  # so the next prompt asks again. '-' from the file (cannot watch): every prompt asks.
  let now = (_envd_readgen $env._envd.run ($env._envd.rok == '1'))
  let g2 = if $a.end == 'ok' and $env._envd.rgen != '' and $now != '-' { $env._envd.rgen } else { $g }
  $env._envd = ($env._envd | merge {pwd: $env.PWD, gen: $g2, found: $f, warned: false})
}

# ---- register -------------------------------------------------------------------------
let _envd_run = (_envd_rundir)
$env._envd = {
  bin: $_envd_bin
  markers: ($_envd_kline | split row ':' | where {|m| $m != '' })
  run: $_envd_run
  rok: ''      # runtime dir: '' not checked, '1' safe, '0' unsafe
  rwhy: ''     # what is wrong with it
  rwarned: false
  snap: null   # fingerprint of the files the loaded state depends on (`f` records)
  # The daemon's budget in ms: `envd export` waits this long for a slow file, then the
  # daemon goes on evaluating and moves the generation when it is done.
  wait: 200
  pwd: ''
  gen: ''
  found: '-'
  nc: ''       # nc to use ('' not probed yet, '-' none)
  n: 0         # request counter (ids)
  rgen: ''     # generation of the last answer
  warned: false
}
# First in pre_prompt (later hooks see the new environment), once: sourcing the file again
# replaces the earlier one.
$env.config.hooks.pre_prompt = (
  $env.config.hooks.pre_prompt? | default []
  | where {|h| ($h | describe) !~ '^closure' or not (view source $h | str contains '_envd_hook') }
  | prepend {|| _envd_hook }
)
