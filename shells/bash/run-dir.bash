# shellcheck shell=bash
# What the bash hook (hook.bash) and bin/envd's front door (bin/ask-daemon.bash) both need
# to know of the daemon, defined once: both source this file.

# _envd_run := the runtime dir exactly as src/config/paths.ts computes it (Node's tmpdir():
# TMPDIR, TMP, TEMP, then /tmp).
_envd_run_dir() {
  local _envd_t
  if [[ -n ${ENVD_RUNTIME_DIR-} ]]; then
    _envd_run=$ENVD_RUNTIME_DIR
  elif [[ -n ${XDG_RUNTIME_DIR-} ]]; then
    _envd_run=${XDG_RUNTIME_DIR%/}/envd
  else
    _envd_t=${TMPDIR:-${TMP:-${TEMP:-/tmp}}}
    _envd_run=${_envd_t%/}/envd-$UID
  fi
}

# _envd_ps := the state letter of process $1 in /proc (R, S, D, T, Z ...), with a builtin
# read; 1 (and '') when there is no /proc to say. kill -0 passes a zombie and a stopped
# process: this tells them from one that will read a request.
_envd_pstate() {
  _envd_ps=''
  [[ -r /proc/$1/stat ]] || return 1
  IFS= builtin read -r _envd_ps < "/proc/$1/stat" || return 1
  _envd_ps=${_envd_ps##*) }
  _envd_ps=${_envd_ps:0:1}
}
