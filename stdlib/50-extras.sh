# shellcheck shell=bash
# envd stdlib: fetching, dumps, versions, git branches, approvals.
#
# Everything here runs inside an evaluation, after 00-core.sh and 10-files.sh. Nothing
# below forks while the stdlib loads: these are definitions and plain assignments only.
# Private helpers start with `__envd_x_`.

# The direnv release whose stdlib and CLI this one answers for (direnv_version compares
# against it: scripts ask "is direnv at least X", not "is envd at least X").
# shellcheck disable=SC2154 # __envd_reply is filled by __envd_rpc (00-core.sh)
__envd_x_direnv_compat=2.34.0

# REPLY = PATH made absolute against BASE (default $PWD), with `.`, `..` and repeated
# slashes folded away lexically (symlinks are left alone, as direnv does). No forks.
__envd_x_abs() {
  local rest=$1 seg out=
  [[ $rest == /* ]] || rest=${2:-$PWD}/$rest
  while [[ -n $rest ]]; do
    seg=${rest%%/*}
    if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=; fi
    case $seg in
      '' | .) ;;
      ..) out=${out%/*} ;;
      *) out+=/$seg ;;
    esac
  done
  REPLY=${out:-/}
}

# REPLY = -1, 0 or 1 comparing two dotted versions piece by piece as numbers (a leading
# `v` is ignored; a piece's trailing non-digits, as in `3-rc1`, do not count).
__envd_x_vercmp() {
  local a=${1#v} b=${2#v} pa pb
  while [[ -n $a || -n $b ]]; do
    pa=${a%%.*} pb=${b%%.*}
    if [[ $a == *.* ]]; then a=${a#*.}; else a=; fi
    if [[ $b == *.* ]]; then b=${b#*.}; else b=; fi
    pa=${pa%%[!0-9]*} pb=${pb%%[!0-9]*}
    pa=$((10#${pa:-0})) pb=$((10#${pb:-0}))
    if ((pa != pb)); then
      ((pa < pb)) && REPLY=-1 || REPLY=1
      return 0
    fi
  done
  REPLY=0
}

# direnv's path helpers, for user libraries that call them. Defined only when the core
# has not already defined them.
declare -F realpath.absolute >/dev/null || realpath.absolute() {
  local base=$PWD arg
  for arg in "$@"; do
    __envd_x_abs "$arg" "$base"
    base=$REPLY
  done
  REPLY=$base
}
declare -F realpath.dirname >/dev/null || realpath.dirname() {
  local p=$1
  while [[ $p == */ && $p != / ]]; do p=${p%/}; done
  if [[ $p != */* ]]; then REPLY=.; return 0; fi
  p=${p%/*}
  while [[ $p == */ ]]; do p=${p%/}; done
  REPLY=${p:-/}
}
declare -F realpath.basename >/dev/null || realpath.basename() {
  local p=$1
  while [[ $p == */ && $p != / ]]; do p=${p%/}; done
  if [[ $p == / ]]; then REPLY=/; else REPLY=${p##*/}; fi
}

# Usage: fetchurl <url> [<integrity>]
#
# Downloads <url> into envd's content-addressed cache. With an SRI <integrity>
# (`sha256-<base64>`) the content is checked and the cached file's path printed; without
# one, the content's integrity is printed so it can be pinned in the .envrc.
fetchurl() {
  if [[ -z ${1:-} ]]; then
    log_error "fetchurl: missing URL (usage: fetchurl URL [sha256-HASH])"
    return 1
  fi
  # __envd_rpc reports its own errors.
  __envd_rpc fetchurl "$@" || return 1
  if [[ -n ${2:-} ]]; then
    printf '%s\n' "${__envd_reply[0]}"
  else
    printf '%s\n' "${__envd_reply[1]}"
  fi
}

# Usage: source_url <url> <integrity>
#
# Fetches <url> (see fetchurl), checks it against <integrity> and runs it like
# source_env would. The integrity is required: it pins exactly what runs.
source_url() {
  local url=${1:-} integrity=${2:-}
  if [[ -z $url ]]; then
    log_error "source_url: missing URL (usage: source_url URL sha256-HASH)"
    return 1
  fi
  if [[ -z $integrity ]]; then
    log_error "source_url: missing integrity hash; run \`envd fetchurl '$url'\` and pass what it prints"
    return 1
  fi
  log_status "loading $url ($integrity)"
  __envd_rpc fetchurl_source "$url" "$integrity" || return 1
  # The reply carries the bytes that were checked; those are what runs.
  eval "${__envd_reply[2]}"
}

# Whether a name from a dump is left alone when a dump is applied: the shell's own
# variables and direnv's/envd's bookkeeping.
__envd_x_dump_ignored() {
  case $1 in
    PWD | OLDPWD | SHLVL | _ | SHELL | SHELLOPTS | BASHOPTS | PS1 | PS2 | PS3 | PS4 | \
      COLUMNS | LINES | IFS | OPTIND | OPTARG | COMP_WORDBREAKS | \
      DIRENV_DIR | DIRENV_FILE | DIRENV_DIFF | DIRENV_WATCHES | DIRENV_IN_ENVRC | \
      DIRENV_DUMP_FILE_PATH | DIRENV_CONFIG | DIRENV_BASH | \
      ENVD_* | __envd* | __ENVD_* | BASH_FUNC_* | __fish*)
      return 0
      ;;
  esac
  return 1
}

# Apply the name/value pairs in __envd_reply as the whole exported environment: export
# each pair, unset exported variables the dump does not have (both skipping the ignored
# names). Fork-free: exported names are listed with ${!prefix*} and the `x` attribute.
__envd_x_apply_reply() {
  local -A __want=()
  local -i __i
  local __n
  for ((__i = 0; __i + 1 < ${#__envd_reply[@]}; __i += 2)); do
    __want[${__envd_reply[__i]}]=1
  done
  for __n in ${!A*} ${!B*} ${!C*} ${!D*} ${!E*} ${!F*} ${!G*} ${!H*} ${!I*} ${!J*} ${!K*} \
    ${!L*} ${!M*} ${!N*} ${!O*} ${!P*} ${!Q*} ${!R*} ${!S*} ${!T*} ${!U*} ${!V*} ${!W*} \
    ${!X*} ${!Y*} ${!Z*} ${!a*} ${!b*} ${!c*} ${!d*} ${!e*} ${!f*} ${!g*} ${!h*} ${!i*} \
    ${!j*} ${!k*} ${!l*} ${!m*} ${!n*} ${!o*} ${!p*} ${!q*} ${!r*} ${!s*} ${!t*} ${!u*} \
    ${!v*} ${!w*} ${!x*} ${!y*} ${!z*} ${!_*}; do
    # Declared but unset names (local x) are not in the environment; skip them first
    # so that nounset does not trip on them.
    [[ -v $__n && ${!__n@a} == *x* ]] || continue
    [[ -n ${__want[$__n]-} ]] && continue
    __envd_x_dump_ignored "$__n" && continue
    unset "$__n" 2>/dev/null || true
  done
  for ((__i = 0; __i + 1 < ${#__envd_reply[@]}; __i += 2)); do
    __n=${__envd_reply[__i]}
    __envd_x_dump_ignored "$__n" && continue
    export "$__n=${__envd_reply[__i + 1]}" 2>/dev/null || log_error "cannot set $__n from the dump"
  done
}

# Usage: direnv_apply_dump <file>
#
# Makes the environment the one stored in <file> by `direnv dump` (or `envd dump`).
direnv_apply_dump() {
  if [[ -z ${1:-} ]]; then
    log_error "direnv_apply_dump: missing dump file"
    return 1
  fi
  if ! __envd_inside; then
    __envd_outside_apply_dump "$1"
    return
  fi
  # A dump kept in a file counts as loaded code: it is covered by the approval.
  __envd_rpc read_dump "$1" trusted || return 1
  __envd_x_apply_reply
}

# Take on the environment a command of this .envrc just dumped into FILE.
__envd_x_load_generated() {
  if ! __envd_inside; then
    __envd_outside_apply_dump "$1"
    return
  fi
  __envd_rpc read_dump "$1" generated && __envd_x_apply_reply
}

# Usage: direnv_load <command> [<args>...]
#
# Runs a command that ends up calling `direnv dump` (e.g. `nix-shell --run 'direnv dump'`)
# and takes on the environment it dumped. The command finds where to write through
# DIRENV_DUMP_FILE_PATH.
direnv_load() {
  local __tmp __out __rc=0 __had_path=${DIRENV_DUMP_FILE_PATH+1} __old_path=${DIRENV_DUMP_FILE_PATH-}
  __tmp=$(mktemp -d "${TMPDIR:-/tmp}/envd-load.XXXXXX") || {
    log_error "direnv_load: cannot create a temporary directory"
    return 1
  }
  __out=$__tmp/dump
  : >"$__out"
  # A compound command so that errexit cannot leave before the cleanup below.
  {
    DIRENV_DUMP_FILE_PATH=$__out "$@" &&
      {
        [[ -s $__out ]] || {
          log_error "direnv_load: the command dumped no environment; it must run \`direnv dump\` (got: $*)"
          false
        }
      } &&
      __envd_x_load_generated "$__out"
  } || __rc=$?
  rm -rf -- "$__tmp"
  if [[ -n $__had_path ]]; then
    export DIRENV_DUMP_FILE_PATH=$__old_path
  else
    unset DIRENV_DUMP_FILE_PATH
  fi
  return "$__rc"
}

# Usage: direnv_version [<min_version>]
#
# Without an argument prints the direnv version envd is compatible with; with one,
# succeeds when that version is at least <min_version>.
direnv_version() {
  local REPLY
  if [[ -z ${1:-} ]]; then
    printf '%s\n' "$__envd_x_direnv_compat"
    return 0
  fi
  __envd_x_vercmp "$__envd_x_direnv_compat" "$1"
  if ((REPLY < 0)); then
    log_error "this .envrc needs direnv $1 or later; envd is compatible with direnv $__envd_x_direnv_compat"
    return 1
  fi
}

# Usage: on_git_branch [<branch>] | on_git_branch -r <regexp>
#
# Succeeds inside a git work tree (on <branch>, or a branch matching <regexp>, when
# given). When a branch is asked about, .git/HEAD is watched so switching reloads.
on_git_branch() {
  local git_dir branch
  if ! has git; then
    log_error "on_git_branch: git is not installed"
    return 1
  fi
  if ! git_dir=$(git rev-parse --absolute-git-dir 2>/dev/null); then
    log_error "on_git_branch: $PWD is not inside a git repository"
    return 1
  fi
  if [[ -z ${1:-} ]]; then
    return 0
  fi
  if [[ $1 == -r && -z ${2:-} ]]; then
    log_error "on_git_branch: -r needs a regular expression"
    return 1
  fi
  watch_file "$git_dir/HEAD"
  branch=$(git branch --show-current 2>/dev/null) || branch=
  if [[ $1 == -r ]]; then
    [[ $branch =~ $2 ]]
  else
    [[ $branch == "$1" ]]
  fi
}

# Usage: require_allowed <file> [<file>...]
#
# The .envrc goes on only once each <file> (relative to the .envrc's directory) is
# approved, as in direnv 2.37: the first `envd allow` approves the .envrc, which then
# stops here, lists the files in DIRENV_REQUIRED and says so; the next `envd allow`
# approves them. An edit to one of them needs approval again. Use it before sourcing a
# file by other means than source_env (`source`, `.`), so that its content is pinned too.
require_allowed() {
  local f n list
  if (($# == 0)); then
    log_error "require_allowed: name the file(s) that must be approved"
    return 1
  fi
  for f in "$@"; do
    # Paths stay inside the project: no absolute paths, no way up.
    if [[ $f == /* ]]; then
      log_error "require_allowed: path must be relative: $f"
      __envd_inside && exit 1
      return 1
    fi
    if [[ $f == *..* ]]; then
      log_error "require_allowed: path must not contain '..': $f"
      __envd_inside && exit 1
      return 1
    fi
  done
  # The reply lists the files that are not approved, as given.
  __envd_rpc require_allowed "$@" || return 1
  n=${#__envd_reply[@]}
  ((n == 0)) && return 0
  list=${__envd_reply[0]}
  for ((f = 1; f < n; f++)); do list+=" and ${__envd_reply[f]}"; done
  ((n == 1)) && list+=" requires" || list+=" require"
  if ! __envd_inside; then
    # A plain shell: no .envrc to approve them with; each file is approved by name.
    log_error "$list approval. Run 'envd allow FILE' for each to approve."
    return 1
  fi
  local IFS=:
  export DIRENV_REQUIRED="${__envd_reply[*]}"
  log_error "$list approval. Run 'envd allow' to approve."
  # The .envrc stops here and what it set so far applies, with DIRENV_REQUIRED, which the
  # next `envd allow` reads.
  exit 0
}
