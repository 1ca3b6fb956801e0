#!/bin/bash
# A FIFO pair of a front door's own, for when none of the daemon's door pairs is free (or
# none has been made yet): sourced by bin/ask-daemon.bash from _envd_request, whose locals
# it uses and sets (_envd_pair; _envd_run, _envd_tok), only then (bash parses as it runs).
# It costs one process (mkfifo), and the daemon is asked to make the door pairs for the
# next time. Returns 1 when the runtime dir fails the hooks' check or a file cannot be
# made: the caller then hands over to Node.
# shellcheck shell=bash disable=SC2154  # _envd_run, _envd_tok: _envd_request's

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
_envd_pair=$_envd_run/sh/$$-${_envd_tok//[!0-9]/}
set -C
if ! : >"$_envd_pair.env"; then set +C; return 1; fi
set +C
command mkfifo -m 600 -- "$_envd_pair.req" "$_envd_pair.res" || return 1
builtin printf '%s\n%s\n' "$_envd_pair.req" doors 1<>"$_envd_run/hook.fifo" || return 1
