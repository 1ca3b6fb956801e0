#!/bin/bash
# A FIFO pair of a front door's own, for when none of the daemon's door pairs is free (or
# none has been made yet): sourced by bin/ask-daemon.bash only then (bash parses as it
# runs), with _envd_run and _envd_id set; it sets _envd_pair, and _envd_um (the caller's
# umask, put back before Node or exec's command runs: its files are made owner-only). It
# costs one process (mkfifo), and the daemon is asked to make the door pairs for the next
# time. Returns 1 when the runtime dir fails the hooks' check or a file cannot be made: the
# caller then hands over to Node.
# shellcheck shell=bash disable=SC2154  # _envd_run, _envd_id: bin/ask-daemon.bash's

# The runtime dir's modes, as the hooks check them (0700, in a parent nobody else can
# rename it in: sticky, or writable by its owner, this user or root, alone).
_envd_rmodes() {
  local _envd_p _envd_o=''
  local -a _envd_a=()
  _envd_p=${_envd_run%/*}/
  _envd_o=$(command stat -c '%u %a' -- "$_envd_run" "$_envd_p" 2>/dev/null ||
    command stat -f '%u %Mp%Lp' -- "$_envd_run" "$_envd_p" 2>/dev/null) || return 1
  IFS=$' \t\n' builtin read -r -d '' -a _envd_a <<<"$_envd_o" || :
  (( ${#_envd_a[@]} == 4 )) && [[ ${_envd_a[*]} != *[!0-9\ ]* ]] || return 1
  (( (8#${_envd_a[1]} & 8#777) == 8#700 )) || return 1
  [[ ${_envd_a[2]} == 0 || -O $_envd_p ]] || return 1
  # Sticky, or writable by nobody else (nor by a group that is not this user's own).
  (( (8#${_envd_a[3]} & 8#1000) || !(8#${_envd_a[3]} & 8#2) )) || return 1
  (( (8#${_envd_a[3]} & 8#1000) || !(8#${_envd_a[3]} & 8#20) )) || [[ -G $_envd_p ]] || return 1
}

_envd_rmodes || return 1
[[ -p $_envd_run/hook.fifo && -O $_envd_run/hook.fifo ]] || return 1
# The caller's umask, from /proc (`umask` alone would print it, in a subshell: a fork).
_envd_um=''
while IFS= builtin read -r _envd_l; do
  if [[ $_envd_l == Umask:* ]]; then _envd_um=${_envd_l#Umask:}; _envd_um=${_envd_um//[!0-7]/}; break; fi
done < "/proc/$$/status"
[[ -n $_envd_um ]] || return 1
builtin umask 077
_envd_pair=$_envd_run/sh/$$-$_envd_id
set -C
if ! : >"$_envd_pair.env"; then set +C; return 1; fi
set +C
command mkfifo -m 600 -- "$_envd_pair.req" "$_envd_pair.res" || return 1
# The environment as /proc/$$/environ holds it (flag `E`: exact bytes), up to `#envd ID`.
mapfile -d '' -t _envd_E < "/proc/$$/environ" || return 1
builtin printf '%s\0' "${_envd_E[@]}" "#envd $_envd_id" 1<>"$_envd_pair.env" || return 1
builtin printf '%s\n%s\n' "$_envd_pair.req" doors 1<>"$_envd_run/hook.fifo" || return 1
