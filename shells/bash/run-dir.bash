# shellcheck shell=bash
# _envd_run := the runtime dir exactly as src/config/paths.ts computes it (Node's tmpdir():
# TMPDIR, TMP, TEMP, then /tmp). One definition for the bash hook (hook.bash) and for
# bin/envd's front door (bin/ask-daemon.bash), which source this file.
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
