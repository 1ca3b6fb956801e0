# shellcheck shell=bash
# envd stdlib: `use asdf`, for .envrc files written for asdf-direnv (see docs/go.md).
#
# asdf-direnv's own `use_asdf` wins when it is installed: user extensions
# (~/.config/direnv/lib/*.sh, direnvrc) are sourced after this file and redefine it.

# Usage: use asdf
#
# Reads .tool-versions as asdf does (for each tool the nearest file up the tree that lists
# it, then ~/.tool-versions) without running asdf. Go is selected through envd's discovery
# (asdf's installs among the rest) and exported as `use go` does, with
# ASDF_CURRENT_VERSION set to its version; each other tool gets the bin directory of its
# install under $ASDF_DATA_DIR (default ~/.asdf) on PATH. One line names the tools that are
# not installed. Fails when the Go pinned is not installed (after the other tools).
use_asdf() {
  if (($# > 0)); then
    log_error "use asdf: takes no arguments (the versions come from .tool-versions), got: $*"
    return 1
  fi
  __envd_rpc asdf "$PWD" || return 1
  local i tag value goroot='' version='' goerror='' notice=''
  local -a bins=()
  # shellcheck disable=SC2154 # set by __envd_rpc (00-core.sh)
  for ((i = 0; i + 1 < ${#__envd_reply[@]}; i += 2)); do
    tag=${__envd_reply[i]}
    value=${__envd_reply[i + 1]}
    case $tag in
      goroot) goroot=$value ;;
      goversion) version=$value ;;
      goerror) goerror=$value ;;
      path) bins+=("$value") ;;
      notice) notice=$value ;;
    esac
  done
  # Added last first, so the first tool of .tool-versions ends up first on PATH.
  for ((i = ${#bins[@]} - 1; i >= 0; i--)); do
    PATH_add "${bins[i]}"
  done
  [[ -z $notice ]] || log_error "$notice"
  if [[ -n $goroot ]]; then
    __envd_go_apply "$goroot" "$version" || return 1
    export ASDF_CURRENT_VERSION=$version
  fi
  if [[ -n $goerror ]]; then
    log_error "use asdf: $goerror"
    return 1
  fi
  return 0
}
