#!/bin/bash
# The front door's answer read record by record: sourced by bin/ask-daemon.bash when it is
# not the usual shape of export's (exec's `x`/`u`, messages, another order). Sets
# _envd_out, _envd_ops, _envd_msgs, _envd_st, _envd_dv and _envd_i (where `z` is, or the
# end); returns 1 at a record it does not know or one cut short.
# shellcheck shell=bash disable=SC2154  # _envd_rep, _envd_c: bin/ask-daemon.bash's
_envd_i=3 _envd_st='' _envd_dv='' _envd_out=''
while (( _envd_i < _envd_c )); do
  case ${_envd_rep[_envd_i]} in
    o) _envd_out=${_envd_rep[_envd_i+1]-}; (( _envd_i += 2 )) ;;
    m) _envd_msgs+=("${_envd_rep[_envd_i+1]-}"); (( _envd_i += 2 )) ;;
    x) (( _envd_i + 2 < _envd_c )) || return 1
       _envd_ops+=(x "${_envd_rep[_envd_i+1]}" "${_envd_rep[_envd_i+2]}"); (( _envd_i += 3 )) ;;
    u) _envd_ops+=(u "${_envd_rep[_envd_i+1]-}" ''); (( _envd_i += 2 )) ;;
    s) _envd_st=${_envd_rep[_envd_i+1]-}; (( _envd_i += 2 )) ;;
    V) _envd_dv=${_envd_rep[_envd_i+1]-}; (( _envd_i += 2 )) ;;
    [kgwf]) (( _envd_i += 2 )) ;;
    p) (( _envd_i += 1 )) ;;
    z) return 0 ;;
    *) return 1 ;;
  esac
done
