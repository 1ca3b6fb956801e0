# envd stdlib: loading other files. Every file's bytes come from envd over the private
# socket, after envd has hashed them and checked them against the approval of the .envrc
# (see docs/security.md): the bytes that were checked are the bytes that run.

# Run CONTENT as if sourced from FILE's directory.
__envd_run_file() {
  local __envd_file=$1 __envd_content=$2 __envd_status
  pushd "${__envd_file%/*}/" >/dev/null || return 1
  eval "$__envd_content"
  __envd_status=$?
  popd >/dev/null || true
  return "$__envd_status"
}

# source_env FILE_OR_DIR: load another .envrc (a directory means its .envrc).
source_env() {
  local REPLY __envd_path
  __envd_expand "$1"
  __envd_path=$REPLY
  [[ -d $__envd_path ]] && __envd_path=$__envd_path/.envrc
  if [[ ! -e $__envd_path ]]; then
    __envd_user_rel "$__envd_path"
    log_status "referenced $REPLY does not exist"
    return 1
  fi
  # `source_env <(cmd)`: one of this bash's own descriptors, opened by code that is already
  # approved. envd cannot read it (the name means envd's own descriptor there), so bash
  # reads it and runs it here. A FIFO *file* is not this: envd refuses it.
  if [[ $__envd_path =~ ^/(dev|proc/self)/fd/[0-9]+$ ]]; then
    local __envd_content=
    IFS= read -r -d '' __envd_content <"$__envd_path" || true
    eval "$__envd_content"
    return
  fi
  __envd_rpc source "$__envd_path" || return 1
  __envd_user_rel "$__envd_path"
  log_status "loading $REPLY"
  # shellcheck disable=SC2154 # __envd_rpc (00-core.sh) fills __envd_reply
  __envd_run_file "$__envd_path" "${__envd_reply[0]}"
}

# source_env_if_exists FILE: source_env when FILE exists, silently nothing otherwise.
source_env_if_exists() {
  local REPLY
  __envd_expand "$1"
  # Watched even when absent, so creating it later reloads.
  [[ -f $REPLY ]] || { __envd_rpc watch "$REPLY"; return 0; }
  source_env "$REPLY"
}

# source_up [NAME]: source_env the nearest NAME (default .envrc) above this directory.
source_up() {
  local REPLY __envd_found
  __envd_found=$(cd .. && find_up "${1:-.envrc}") || true
  if [[ -z $__envd_found ]]; then
    log_status "source_up: no ${1:-.envrc} found in a parent directory"
    return 1
  fi
  source_env "$__envd_found"
}

# source_up_if_exists [NAME]: source_up, without an error when there is none.
source_up_if_exists() {
  local __envd_found
  __envd_found=$(cd .. && find_up "${1:-.envrc}") || true
  [[ -n $__envd_found ]] || return 0
  source_env "$__envd_found"
}

# dotenv [FILE]: export the variables of a .env file (default ./.env).
dotenv() {
  local REPLY __envd_path __envd_i
  __envd_expand "${1:-.env}"
  __envd_path=$REPLY
  if [[ -d $__envd_path ]]; then
    __envd_path=$__envd_path/.env
  fi
  if [[ ! -f $__envd_path ]]; then
    __envd_user_rel "$__envd_path"
    log_error "dotenv: $REPLY does not exist"
    return 1
  fi
  __envd_rpc dotenv "$__envd_path" || return 1
  for ((__envd_i = 0; __envd_i + 1 < ${#__envd_reply[@]}; __envd_i += 2)); do
    export "${__envd_reply[__envd_i]}=${__envd_reply[__envd_i + 1]}"
  done
}

# dotenv_if_exists [FILE]: dotenv when the file exists.
dotenv_if_exists() {
  local REPLY
  __envd_expand "${1:-.env}"
  [[ -f $REPLY ]] || { __envd_rpc watch "$REPLY"; return 0; }
  dotenv "$REPLY"
}
