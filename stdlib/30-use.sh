# shellcheck shell=bash
# envd stdlib: `use <name>` for language runtimes and package managers (go lives in
# 40-go.sh), plus load_prefix, semver_search and rvm.

# Usage: load_prefix <prefix>
#
# Puts a `./configure --prefix=<prefix>` style install tree to use: its bin, lib,
# include, pkgconfig and man directories go on the matching search paths.
load_prefix() {
  local REPLY prefix
  if [[ -z ${1:-} ]]; then
    log_error "load_prefix: missing directory (usage: load_prefix PREFIX)"
    return 1
  fi
  __envd_x_abs "$1"
  prefix=$REPLY
  MANPATH_add "$prefix/man"
  MANPATH_add "$prefix/share/man"
  path_add CPATH "$prefix/include"
  path_add LD_LIBRARY_PATH "$prefix/lib"
  path_add LIBRARY_PATH "$prefix/lib"
  path_add PATH "$prefix/bin"
  path_add PKG_CONFIG_PATH "$prefix/lib/pkgconfig"
}

# Usage: semver_search <dir> <prefix> <partial_version>
#
# Prints the highest version V for which <dir>/<prefix>V is a directory and V is
# <partial_version> or extends it by whole pieces (`1.4` matches 1.4, 1.4.2 and
# 1.4.0-rc1, not 1.40.0). Versions compare piece by piece as numbers. Prints nothing
# when there is no match.
semver_search() {
  local dir=${1:-} prefix=${2:-} want=${3:-} best='' cand v REPLY
  [[ $dir == / ]] || dir=${dir%/}
  [[ -n $dir ]] || return 0
  for cand in "$dir/$prefix$want"*; do
    [[ -d $cand ]] || continue
    v=${cand#"$dir/$prefix"}
    if [[ -n $want && $v != "$want" && $v != "$want".* && $v != "$want"[-+]* ]]; then
      continue
    fi
    if [[ -z $best ]]; then
      best=$v
      continue
    fi
    __envd_x_vercmp "$v" "$best"
    ((REPLY > 0)) && best=$v
  done
  [[ -z $best ]] || printf '%s\n' "$best"
  return 0
}

# Usage: use node [<version>]
#
# Puts an installed Node.js on the search paths: $NODE_VERSIONS holds one directory per
# version named $NODE_VERSION_PREFIX<version> (prefix default `node-v`). A partial version
# picks the highest installed match. Without <version>, .nvmrc or .node-version says.
use_node() {
  local version=${1:-} via='' prefix=${NODE_VERSION_PREFIX-node-v} found dir f
  if [[ -z ${NODE_VERSIONS:-} || ! -d $NODE_VERSIONS ]]; then
    log_error "use node: set NODE_VERSIONS to the directory that holds your Node.js versions (it must exist)"
    return 1
  fi
  if [[ -z $version ]]; then
    for f in .nvmrc .node-version; do
      # Watched even when missing: creating one changes the answer.
      watch_file "$PWD/$f"
      if [[ -z $version && -f $f ]]; then
        IFS= read -r version <"$f" || true
        version=${version%$'\r'}
        version=${version#"${version%%[![:space:]]*}"}
        version=${version%"${version##*[![:space:]]}"}
        via=$f
      fi
    done
  fi
  version=${version#v}
  if [[ -z $version ]]; then
    log_error "use node: no version given, and no .nvmrc or .node-version here"
    return 1
  fi
  if [[ ! $version =~ ^[0-9] ]]; then
    log_error "use node: '$version'${via:+ (from $via)} is not a version number; aliases such as lts/* are not supported"
    return 1
  fi
  found=$(semver_search "$NODE_VERSIONS" "$prefix" "$version")
  dir=$NODE_VERSIONS/$prefix$found
  if [[ -z $found || ! -d $dir ]]; then
    log_error "use node: Node.js $version is not installed in $NODE_VERSIONS"
    return 1
  fi
  if [[ ! -x $dir/bin/node ]]; then
    log_error "use node: $dir/bin/node is missing or not executable"
    return 1
  fi
  load_prefix "$dir"
  log_status "using Node.js $found${via:+ (via $via)} from $dir"
}

# Usage: use nodenv <version>
#
# A Node.js installed by nodenv, plus the project's node_modules/.bin.
use_nodenv() {
  local version=${1:-} root
  if [[ -z $version ]]; then
    log_error "use nodenv: name a version (use nodenv 20.11.1)"
    return 1
  fi
  root=$(nodenv root) || {
    log_error "use nodenv: cannot run nodenv"
    return 1
  }
  if [[ ! -e $root/versions/$version ]]; then
    log_error "use nodenv: Node.js $version is not installed; run \`nodenv install $version\`"
    return 1
  fi
  NODE_VERSIONS=$root/versions NODE_VERSION_PREFIX='' use_node "$version" || return 1
  layout_node
}

# Usage: use rbenv
#
# Loads rbenv's shims and shell integration.
use_rbenv() {
  local code
  code=$(rbenv init -) || {
    log_error "use rbenv: 'rbenv init -' failed"
    return 1
  }
  eval "$code"
}

# Usage: use julia <version>
#
# Puts an installed Julia on the search paths: $JULIA_VERSIONS holds one directory per
# version named $JULIA_VERSION_PREFIX<version> (prefix default `julia-`).
use_julia() {
  local version=${1:-} prefix=${JULIA_VERSION_PREFIX-julia-} dir found
  if [[ -z ${JULIA_VERSIONS:-} || -z $version ]]; then
    log_error "use julia: set JULIA_VERSIONS to the directory of your Julia versions and name a version"
    return 1
  fi
  dir=$JULIA_VERSIONS/$prefix$version
  if [[ ! -d $dir ]]; then
    found=$(semver_search "$JULIA_VERSIONS" "$prefix" "$version")
    dir=$JULIA_VERSIONS/$prefix$found
    if [[ -z $found || ! -d $dir ]]; then
      log_error "use julia: Julia $version is not installed in $JULIA_VERSIONS"
      return 1
    fi
  fi
  if [[ ! -x $dir/bin/julia ]]; then
    log_error "use julia: $dir/bin/julia is missing or not executable"
    return 1
  fi
  load_prefix "$dir"
  # direnv's line, word for word: scripts and people look for "Successfully loaded".
  log_status "Successfully loaded $("$dir/bin/julia" --version), from prefix ($dir)"
}

# Usage: use nix [<nix-shell args>...]
#
# Takes on the environment of `nix-shell` (shell.nix or default.nix here, or the
# arguments, e.g. `use nix -p jq`).
use_nix() {
  direnv_load nix-shell --show-trace "$@" --run "$(join_args "${direnv:-envd}" dump)" || return 1
  if (($# == 0)); then
    watch_file default.nix shell.nix
  fi
}

# Usage: use flake [<installable>]
#
# Takes on the development environment of a flake (`nix print-dev-env`), the one in this
# directory by default. The profile is kept in the layout directory so that it is not
# garbage-collected.
use_flake() {
  local REPLY code
  watch_file flake.nix flake.lock
  __envd_x_layout_dir || return 1
  code=$(nix print-dev-env --profile "$REPLY/flake-profile" "$@") || {
    log_error "use flake: 'nix print-dev-env' failed"
    return 1
  }
  eval "$code"
}

# Usage: use guix [<guix environment args>...]
#
# Takes on the search paths of a `guix environment` (e.g. `use guix --ad-hoc hello`).
use_guix() {
  local code
  code=$(guix environment "$@" --search-paths) || {
    log_error "use guix: 'guix environment' failed"
    return 1
  }
  eval "$code"
}

# Usage: use vim [<vimrc>]
#
# Adds a project vimrc (default .vimrc.local) to DIRENV_EXTRA_VIMRC, which the direnv.vim
# plugin sources for files in this directory.
use_vim() {
  path_add DIRENV_EXTRA_VIMRC "${1:-.vimrc.local}"
}

# Usage: rvm <args>...
#
# Loads rvm (from $rvm_scripts_path, $rvm_path or ~/.rvm) the first time and runs it, as
# in an interactive shell: `rvm use 3.2.2`.
rvm() {
  local __envd_rvm_script
  unset -f rvm
  if [[ -n ${rvm_scripts_path:-} ]]; then
    __envd_rvm_script=$rvm_scripts_path/rvm
  elif [[ -n ${rvm_path:-} ]]; then
    __envd_rvm_script=$rvm_path/scripts/rvm
  else
    __envd_rvm_script=$HOME/.rvm/scripts/rvm
  fi
  if [[ ! -f $__envd_rvm_script ]]; then
    log_error "rvm: $__envd_rvm_script not found; is rvm installed?"
    return 1
  fi
  # shellcheck disable=SC1090
  source "$__envd_rvm_script"
  rvm "$@"
}
