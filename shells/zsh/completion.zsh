#compdef envd
# envd completion for zsh. Load it after compinit with:
#   source <(envd completion zsh)           (in ~/.zshrc)
# or save it as _envd in a directory on $fpath.
# The verb table between the generated markers comes from src/cli/verbs.ts; the rest is
# written here. `envd completion zsh` prints this file as it is.

# ---- generated from src/cli/verbs.ts by `npm run completions`: do not edit ----
_envd_verbs() {
  verbs=('hook:print the prompt hook for a shell' 'allow:approve an .envrc'\''s current content' 'permit:approve an .envrc'\''s current content (alias of allow)' 'grant:approve an .envrc'\''s current content (alias of allow)' 'deny:block an .envrc (wins over approvals)' 'block:block an .envrc (wins over approvals) (alias of deny)' 'revoke:block an .envrc (wins over approvals) (alias of deny)' 'disallow:block an .envrc (wins over approvals) (alias of deny)' 'export:print what changes in this directory' 'exec:run a command with a directory'\''s environment' 'status:what is loaded, found and allowed, and why' 'reload:evaluate the env file again at the next prompt' 'edit:open the .envrc in $EDITOR and approve the result' 'prune:drop approvals of files that are gone or changed' 'stdlib:print the bash stdlib' 'version:print the version, or check it is at least MIN' 'go:Go SDKs: list, which one a directory gets, install' 'daemon:manage the per-user daemon' 'doctor:check the installation: hook, daemon, files, config, bash, Go' 'completion:print tab completion for a shell' 'dump:print this environment for a parent to load' 'apply_dump:bash code that turns the environment into a dump' 'show_dump:decode a dump for reading' 'watch:record a file the loaded environment depends on' 'watch-dir:record a directory the loaded environment depends on' 'watch-list:the files the environment depends on, with their state' 'watch-print:the files the environment depends on' 'dotenv:print a .env file as exports' 'current:exit 0 when PATH is watched and unchanged' 'fetchurl:fetch a URL into the cache (with an integrity pin)' 'check-required:list the files that are not approved (require_allowed)' 'help:list the commands')
}

_envd_subcommands() {
  case $1 in
    ('go') subs=('list:Go SDKs installed on this machine' 'which:the GOROOT a directory gets, and why' 'install:download, verify and install a Go release' 'uninstall:remove a Go that envd installed') ;;
    ('daemon') subs=('start:start the daemon if it is not running' 'stop:stop the daemon' 'restart:stop the daemon and start a new one' 'status:whether the daemon answers, and its version' 'run:run the daemon in the foreground' 'logs:print the end of the daemon'\''s log' 'install:write a systemd user unit or launchd agent for the daemon') ;;
  esac
}

_envd_spec() {
  case $1 in
    ('hook') opts=(); valopts=(); pos=('words:bash,zsh,fish,elvish,tcsh,nushell'); rest='none' ;;
    ('allow') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('permit') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('grant') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('deny') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('block') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('revoke') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('disallow') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('export') opts=('--budget:milliseconds to wait for a slow .envrc'); valopts=('--budget=none'); pos=('words:bash,zsh,fish,elvish,tcsh,nushell,json,gha'); rest='none' ;;
    ('exec') opts=(); valopts=(); pos=('dir' 'command'); rest='file' ;;
    ('status') opts=('--json:machine-readable output'); valopts=(); pos=(); rest='none' ;;
    ('reload') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('edit') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('prune') opts=(); valopts=(); pos=(); rest='none' ;;
    ('stdlib') opts=(); valopts=(); pos=(); rest='none' ;;
    ('version') opts=(); valopts=(); pos=('none'); rest='none' ;;
    ('go') opts=(); valopts=(); pos=(); rest='none' ;;
    ('go list') opts=('--json:machine-readable output'); valopts=(); pos=(); rest='none' ;;
    ('go which') opts=('--json:machine-readable output' '--dir:directory to resolve for'); valopts=('--dir=dir'); pos=('none'); rest='none' ;;
    ('go install') opts=('--dir:install what this directory pins'); valopts=('--dir=dir'); pos=('none'); rest='none' ;;
    ('go uninstall') opts=(); valopts=(); pos=('none'); rest='none' ;;
    ('daemon') opts=(); valopts=(); pos=(); rest='none' ;;
    ('daemon start') opts=(); valopts=(); pos=(); rest='none' ;;
    ('daemon stop') opts=(); valopts=(); pos=(); rest='none' ;;
    ('daemon restart') opts=(); valopts=(); pos=(); rest='none' ;;
    ('daemon status') opts=('--json:machine-readable output'); valopts=(); pos=(); rest='none' ;;
    ('daemon run') opts=(); valopts=(); pos=(); rest='none' ;;
    ('daemon logs') opts=('-n:how many lines (default 50)'); valopts=('-n=none'); pos=(); rest='none' ;;
    ('daemon install') opts=('--print:print the unit instead of writing it' '--force:overwrite an existing unit' '--remove:remove the unit envd wrote' '--platform:write for this platform'); valopts=('--platform=words:linux,darwin'); pos=(); rest='none' ;;
    ('doctor') opts=('--json:machine-readable output' '--no-start:do not start the daemon to check it'); valopts=(); pos=(); rest='none' ;;
    ('completion') opts=(); valopts=(); pos=('words:bash,zsh,fish'); rest='none' ;;
    ('dump') opts=(); valopts=(); pos=('words:gzenv,json,bash,zsh,fish,elvish,tcsh,nushell' 'file'); rest='none' ;;
    ('apply_dump') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('show_dump') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('watch') opts=(); valopts=(); pos=('words:bash,zsh,fish,elvish,tcsh,nushell'); rest='file' ;;
    ('watch-dir') opts=(); valopts=(); pos=('dir'); rest='none' ;;
    ('watch-list') opts=('--json:machine-readable output'); valopts=(); pos=(); rest='none' ;;
    ('watch-print') opts=('--null:separate with NUL bytes' '-0:separate with NUL bytes'); valopts=(); pos=(); rest='none' ;;
    ('dotenv') opts=(); valopts=(); pos=('words:bash,zsh,fish,elvish,tcsh,nushell,json,gha' 'file'); rest='none' ;;
    ('current') opts=(); valopts=(); pos=('file'); rest='none' ;;
    ('fetchurl') opts=(); valopts=(); pos=('none' 'none'); rest='none' ;;
    ('check-required') opts=(); valopts=(); pos=(); rest='file' ;;
    ('help') opts=(); valopts=(); pos=(); rest='none' ;;
    (*) return 1 ;;
  esac
}
# ---- end of generated ----

_envd_kind() {
  local kind=$1
  case $kind in
    (words:*) compadd -- ${(s:,:)kind#words:} ;;
    (file) _files ;;
    (dir) _files -/ ;;
    (command) _command_names -e ;;
    (*) _message 'value' ;;
  esac
}

_envd() {
  local -a verbs subs opts valopts pos
  local cmd rest vo w skip=''
  local -i i n=0
  _envd_verbs
  if ((CURRENT == 2)); then
    _describe -t commands 'envd command' verbs
    return
  fi
  cmd=$words[2]
  i=3
  _envd_subcommands $cmd
  if ((${#subs})); then
    if ((CURRENT == 3)); then
      _describe -t commands "envd $cmd command" subs
      return
    fi
    cmd="$cmd $words[3]"
    i=4
  fi
  rest=none
  _envd_spec $cmd || return 1
  for vo in $valopts; do
    if [[ $words[CURRENT-1] == ${vo%%=*} ]]; then
      _envd_kind ${vo#*=}
      return
    fi
  done
  if [[ $PREFIX == -* ]] && ((${#opts})); then
    _describe -t options option opts
    return
  fi
  for ((; i < CURRENT; i++)); do
    w=$words[i]
    if [[ -n $skip ]]; then
      skip=''
      continue
    fi
    if [[ $w == -* ]]; then
      for vo in $valopts; do
        [[ $w == ${vo%%=*} ]] && skip=1
      done
      continue
    fi
    n+=1
  done
  if ((n < ${#pos})); then
    _envd_kind $pos[n+1]
  else
    _envd_kind $rest
  fi
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _envd "$@"
else
  compdef _envd envd
fi
