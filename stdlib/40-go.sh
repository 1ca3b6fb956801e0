# shellcheck shell=bash
# envd stdlib: Go toolchains, `use go [VERSION]` and `layout go` (see docs/go.md).
#
# Choosing the SDK is envd's job (the `go` RPC: discovery, version files, precedence), so
# nothing here runs `go` or parses versions; these functions only export what the RPC says.

# The [go] cache setting and envd's cache directory, passed in by the engine. Copied when
# the stdlib loads so nothing the .envrc does to the environment changes them; a warm
# evaluator (src/eval/warm.ts) loads the stdlib before it has the evaluation's environment
# and runs every function in __envd_onload again once it has.
__envd_go_settings() {
  __envd_go_cache_mode=${__ENVD_GO_CACHE:-project}
  __envd_go_cache_root=${__ENVD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-}/.cache}/envd}
}
__envd_go_settings
__envd_onload+=(__envd_go_settings)
# The version `use go` selected in this evaluation (layout go's per-version cache uses it).
__envd_go_version=

# __envd_go_set_cache VERSION LAYOUT_DIR: export GOCACHE per the [go] cache setting.
#   project  LAYOUT_DIR/go-build (the project's own build cache)
#   version  $XDG_CACHE_HOME/envd/go-build/VERSION (shared by projects on the same Go)
#   shared   GOCACHE left as it is
# The go command creates the directory the first time it builds.
__envd_go_set_cache() {
  local version=$1 layout=$2
  case $__envd_go_cache_mode in
    project)
      export GOCACHE="$layout/go-build"
      ;;
    version)
      if [[ ! $version =~ ^[0-9][0-9A-Za-z.]*$ ]]; then
        log_error "go: cannot tell which Go version this is, so GOCACHE is left as it is ([go] cache = \"version\")"
        return 0
      fi
      export GOCACHE="$__envd_go_cache_root/go-build/$version"
      ;;
    shared) ;;
    *)
      log_error "go: unknown [go] cache setting '$__envd_go_cache_mode' (expected project, version or shared); GOCACHE left as it is"
      ;;
  esac
  return 0
}

# __envd_go_detect_version: REPLY = the version of the Go that is first on PATH (for
# `layout go` without `use go` under [go] cache = "version"). Reads $GOROOT/VERSION or the
# VERSION beside the go binary with builtins; asks go itself only when neither works
# (e.g. /usr/bin/go is a symlink, which bash cannot resolve without a fork).
__envd_go_detect_version() {
  REPLY=
  local root='' line='' go='' dir
  local -a dirs=()
  if [[ -n ${GOROOT:-} && -r $GOROOT/VERSION ]]; then
    root=$GOROOT
  else
    IFS=: read -r -a dirs <<<"${PATH-}" || true
    for dir in "${dirs[@]}"; do
      if [[ -n $dir && -f $dir/go && -x $dir/go ]]; then
        go=$dir/go
        break
      fi
    done
    if [[ -n $go && ! -L $go && -r ${go%/bin/go}/VERSION ]]; then
      root=${go%/bin/go}
    fi
  fi
  if [[ -n $root ]]; then
    IFS= read -r line <"$root/VERSION" || [[ -n $line ]] || return 0
  elif has go; then
    line=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null) || return 0
  fi
  line=${line%%[[:space:]]*}
  line=${line#go}
  REPLY=${line%%[-+]*}
}

# Usage: use go [VERSION]
#
# Selects an installed Go SDK: VERSION when given (1.22, 1.22.5, go1.22.5, 1.21rc2,
# latest), else the nearest go.work/go.mod `toolchain` line, .go-version, .golang-version
# or .gvmrc, a mise config or .tool-versions (golang/go), or go.mod's `go` line as a
# minimum. Exports GOROOT, puts $GOROOT/bin first on PATH, sets GOTOOLCHAIN=local (so `go`
# never switches to another toolchain behind envd's back) and GOCACHE per [go] cache. When
# nothing installed fits, it exports nothing and fails with one line saying what is
# wanted, what is installed and the `envd go install` command that installs it (with
# [go] install = "auto", the daemon installs it in the background and says so).
use_go() {
  if (($# > 1)); then
    log_error "use go: takes at most one version, got: $*"
    return 1
  fi
  __envd_rpc go "${1-}" "$PWD" || return 1
  __envd_go_apply "${__envd_reply[0]-}" "${__envd_reply[1]-}"
}

# __envd_go_apply GOROOT VERSION: what `use go` exports once envd chose the SDK (also used
# by `use asdf`).
__envd_go_apply() {
  local goroot=$1 version=$2 layout='' REPLY
  if [[ -z $goroot || -z $version ]]; then
    log_error "use go: envd returned no GOROOT"
    return 1
  fi
  if [[ $__envd_go_cache_mode == project ]]; then
    layout=$(direnv_layout_dir) || return 1
  fi
  export GOROOT=$goroot
  PATH_add "$goroot/bin"
  export GOTOOLCHAIN=local
  __envd_go_version=$version
  __envd_go_set_cache "$version" "$layout"
  REPLY=$goroot
  if declare -F __envd_user_rel >/dev/null; then __envd_user_rel "$goroot"; fi
  log_status "using go $version from $REPLY"
}

# Usage: layout go
#
# As direnv's: the project's own GOPATH entry (<layout dir>/go, in front of any GOPATH
# already set), so modules and `go install` land inside the project, with its bin first on
# PATH; GOBIN points there explicitly. GOCACHE follows [go] cache as for `use go`.
layout_go() {
  local layout REPLY
  layout=$(direnv_layout_dir) || return 1
  if [[ -z $layout ]]; then
    log_error "layout go: direnv_layout_dir printed nothing"
    return 1
  fi
  path_add GOPATH "$layout/go"
  export GOBIN="$layout/go/bin"
  PATH_add "$GOBIN"
  local version=$__envd_go_version
  if [[ $__envd_go_cache_mode == version && -z $version ]]; then
    __envd_go_detect_version
    version=$REPLY
  fi
  __envd_go_set_cache "$version" "$layout"
}
