/**
 * What bash runs after the stdlib, before and after the user's file. Inputs arrive in
 * private variables that are unset before user code runs:
 *   __ENVD_RC          the .envrc bytes that were hashed and approved
 *   __ENVD_RC_PATH     the .envrc's path (for messages)
 *   __ENVD_EXTENSIONS  newline-separated user extension files (direnvrc, lib/*.sh)
 *   __ENVD_STRICT      1 when strict_env is configured
 *   __ENVD_BYTES       1 when some variables (or __ENVD_RC) are not UTF-8: they are not in
 *                      the environment (src/eval/env-bytes.ts) and are fetched exactly
 *                      over the socket (`env-bytes`) and exported before anything else
 *   __envd_dumpfd     (shell variables, set by the script before this one) the fd of the
 *   __envd_dumpid      file the environment is written to at the end, between lines
 *                      with this id (zygote.ts, dump-file.ts), or empty: over the socket
 * The private socket arrives on fd 3; it moves to a high fd so the .envrc may use fd 3.
 */
export const BOOTSTRAP = String.raw`
exec {__envd_fd}<&3 3<&-
exec 1>&2
if [[ -n ${'$'}{__ENVD_BYTES-} ]]; then
  unset __ENVD_BYTES
  # Without them the file would run in another environment than the one approved for
  # it (a PATH without its entries): fail rather than run.
  __envd_rpc env-bytes || exit 1
  for ((__envd_i = 0; __envd_i + 1 < ${'$'}{#__envd_reply[@]}; __envd_i += 2)); do
    export "${'$'}{__envd_reply[__envd_i]}=${'$'}{__envd_reply[__envd_i + 1]}" 2>/dev/null || :
  done
  unset __envd_i __envd_reply
fi
__envd_src=$__ENVD_RC
__envd_extensions=$__ENVD_EXTENSIONS
__envd_strict=$__ENVD_STRICT
unset __ENVD_RC __ENVD_EXTENSIONS __ENVD_STRICT
direnv=$__ENVD_BIN

# At exit (also on 'exit N' in the .envrc): send the exported environment, then exit
# with the same status; envd applies it only when that status is 0.
# No 'local' here: after errexit the trap may run outside any function context.
__envd_dump() {
  __envd_status=$?
  trap - EXIT
  set +o errexit +o nounset
  # One builtin writes every exported variable with its value (a loop over the names
  # costs ~25 µs a variable); envd parses bash's quoting (parseDeclarePx). Arrays and
  # variables exported without a value are in it too and are not part of a child's
  # environment, so envd skips them, as a child would. bash writes its output a line at a
  # time: on the socket that is a wake-up of envd a variable, so a fork server's
  # evaluation writes to the file it was given instead, which envd reads when the server
  # says the evaluation ended (zygote.ts).
  if [[ -n $__envd_dumpfd ]]; then
    { builtin printf '#envd start %s\n' "$__envd_dumpid"; builtin declare -px; builtin printf '#envd dump\n%s\n' "$__envd_dumpid"; } >&"$__envd_dumpfd"
    # Done: said on both channels now, so envd need not wait for this process to be torn
    # down and reaped by the server (~0.3 ms), which says so again after (zygote.ts).
    builtin printf '\0envd-done:%s\0' "$__envd_dumpid" >&2 2>/dev/null
    builtin printf '%s\0' 3 zdone "$__envd_dumpid" "$__envd_status" >&"$__envd_fd" 2>/dev/null
  else
    { builtin printf '%s\0' 2 dump-px; builtin declare -px; builtin printf '#envd dump\n\0'; } >&"$__envd_fd"
  fi
  exit "$__envd_status"
}
trap __envd_dump EXIT

# One name a line, split with expansions (read would take a here-string, a pipe, a byte at a time).
__envd_extensions+=$'\n'
while [[ -n $__envd_extensions ]]; do
  __envd_ext=${'$'}{__envd_extensions%%$'\n'*}
  __envd_extensions=${'$'}{__envd_extensions#*$'\n'}
  [[ -n $__envd_ext && -f $__envd_ext ]] || continue
  # shellcheck disable=SC1090
  . "$__envd_ext"
done
unset __envd_ext __envd_extensions

# Errors in the .envrc read "./.envrc:4: nosuchcmd: command not found", as in direnv: the
# function that evals the approved bytes is defined by sourcing stdlib/envrc/.envrc under
# the name ./.envrc (see that file). Without it, plain eval (errors then say "environment").
shopt -s gnu_errfmt
__envd_here=$PWD __envd_oldpwd=${'$'}{OLDPWD-}
if builtin cd -- "${'$'}{direnv%/bin/*}/stdlib/envrc" 2>/dev/null; then
  . ./.envrc 2>/dev/null || true
  builtin cd -- "$__envd_here" || { log_error "cannot return to $__envd_here"; exit 1; }
  OLDPWD=$__envd_oldpwd
fi
unset __envd_here __envd_oldpwd
declare -F __envd_main >/dev/null || __envd_main() { eval "$__envd_src"; }
[[ $__envd_strict == 1 ]] && strict_env
__envd_main
exit 0
`;
