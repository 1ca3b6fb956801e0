# shellcheck shell=bash
# envd stdlib: the same functions in a plain shell. `source <(envd stdlib)` (or `direnv
# stdlib` through the shim) gives an interactive or script bash dotenv, source_env,
# source_up, watch_file, direnv_apply_dump, require_allowed and the rest, as direnv's
# stdlib does outside direnv. There is no private socket there, so __envd_rpc
# (00-core.sh) hands each request to the function below of the same name, which asks the
# binary named by $direnv (`envd stdlib` sets it) and fills __envd_reply the same way.
# Nothing here runs inside an evaluation.

# The binary to ask: $direnv as `envd stdlib` sets it, else envd on PATH.
__envd_outside_bin() {
  REPLY=${direnv:-envd}
}

# source FILE: the file's bytes. Outside, no approval applies (as with direnv's stdlib).
__envd_outside_source() {
  local content=
  if [[ ! -r $1 ]]; then
    log_error "cannot read $1"
    return 1
  fi
  IFS= read -r -d '' content <"$1" || true
  __envd_reply=("$content")
}

# dotenv FILE: exports the file's variables here (the reply stays empty).
__envd_outside_dotenv() {
  local REPLY code
  __envd_outside_bin
  code=$("$REPLY" dotenv bash "$1") || return 1
  eval "$code"
}

# watch / watch-dir: an evaluation records what it depends on; a plain shell has nothing
# that reloads, so there is nothing to record.
__envd_outside_watch() {
  return 0
}
__envd_outside_watch-dir() {
  return 0
}

# fetchurl URL [INTEGRITY]: the binary prints the cached path (with INTEGRITY) or the
# integrity (without); the stdlib's fetchurl prints field 0 or 1 accordingly.
__envd_outside_fetchurl() {
  local REPLY out
  __envd_outside_bin
  out=$("$REPLY" fetchurl "$@") || return 1
  __envd_reply=("$out" "$out")
}

# fetchurl_source URL INTEGRITY: cached path, integrity and the checked bytes.
__envd_outside_fetchurl_source() {
  local REPLY path content=
  __envd_outside_bin
  path=$("$REPLY" fetchurl "$1" "$2") || return 1
  IFS= read -r -d '' content <"$path" || true
  __envd_reply=("$path" "$2" "$content")
}

# require_allowed FILE...: the files (relative to this directory) that are not approved.
__envd_outside_require_allowed() {
  local REPLY out line
  __envd_outside_bin
  out=$("$REPLY" check-required "$@") || return 1
  while IFS= read -r line; do
    [[ -n $line ]] && __envd_reply+=("$line")
  done <<<"$out"
  return 0
}

# Turn this shell's environment into the one dumped in FILE (direnv_apply_dump, direnv_load).
__envd_outside_apply_dump() {
  local REPLY code
  __envd_outside_bin
  code=$("$REPLY" apply_dump "$1") || return 1
  eval "$code"
}
