#!/usr/bin/env bash
# The second pass of `npm test`: the trust, hook and daemon-safety test files again, as a
# normal user would run envd: not root, umask 002 (Ubuntu's and Fedora's desktop default,
# with a user-private group), no XDG_RUNTIME_DIR (su, ssh without pam_systemd,
# containers), LANG=C. As root it runs them as ENVD_TEST_USER (default envdtest, created
# by .ci/run); as a normal user it runs them as yourself.
#
#   scripts/test-as-user.sh                 the pass's files
#   scripts/test-as-user.sh test/x.test.ts  just these
set -euo pipefail
cd "$(dirname "$0")/.."

user=${ENVD_TEST_USER:-envdtest}
if (($# > 0)); then
  files=("$@")
else
  shopt -s nullglob
  # The front door (bin/envd: editors and scripts run it as themselves), the daemon's
  # identity, version and lifetime checks and its kept replies are on the same paths.
  files=(test/trust-*.test.ts test/hooks-*.test.ts test/allowlist*.test.ts test/shell-*.test.ts test/daemon-socket.test.ts test/daemon-watcher.test.ts
    test/more-shells-runtime-dir.test.ts test/more-shells-fresh.test.ts test/front-door*.test.ts test/daemon-identity.test.ts test/daemon-replay.test.ts
    test/daemon-versions.test.ts test/daemon-lifetime.test.ts test/semantics-require-allowed.test.ts test/hook-connection.test.ts)
fi

# Only what a user's session would have, plus what the tests need to find their tools.
run_env=(
  "PATH=/usr/local/bin:/usr/bin:/bin"
  "LANG=C" "LC_ALL=C"
  "ENVD_TEST_PASS=user"
  "ENVD_REQUIRE_SHELLS=${ENVD_REQUIRE_SHELLS:-}" "ENVD_REQUIRE_GO=${ENVD_REQUIRE_GO:-}"
  "TERM=${TERM:-dumb}" "CI=${CI:-}"
)
vitest=(node node_modules/vitest/vitest.mjs run --config vitest.config.ts --configLoader runner)

if (($(id -u) != 0)); then
  echo "[envd tests] user pass: ${#files[@]} files as $(id -un), umask 002, LANG=C, no XDG_RUNTIME_DIR"
  umask 002
  exec env -i HOME="$HOME" USER="$(id -un)" "${run_env[@]}" "${vitest[@]}" "${files[@]}"
fi

if ! command -v setpriv >/dev/null || ! id "$user" >/dev/null 2>&1 || ! id nobody >/dev/null 2>&1; then
  if [[ ${ENVD_REQUIRE_USERS-} == 1 ]]; then
    echo "[envd tests] the user pass needs setpriv and the accounts $user and nobody: useradd --create-home --user-group $user" >&2
    exit 1
  fi
  echo "[envd tests] SKIPPED: the user pass (no account $user; create it with: useradd --create-home --user-group $user)" >&2
  exit 0
fi

uid=$(id -u "$user")
gid=$(id -g "$user")
# The user must reach the checkout; a clone under /root is not reachable, so the pass
# then runs from a copy it owns (node_modules and dist included).
work=$PWD
if ! setpriv --reuid="$uid" --regid="$gid" --init-groups -- test -r "$PWD/package.json" -a -x "$PWD/node_modules"; then
  work=$(mktemp -d /tmp/envd-userpass.XXXXXX)
  cp -a . "$work/"
  chown -R "$uid:$gid" "$work"
  trap 'rm -rf "$work"' EXIT
fi
home=$(getent passwd "$user" | cut -d: -f6)
echo "[envd tests] user pass: ${#files[@]} files as $user (uid $uid), umask 002, LANG=C, no XDG_RUNTIME_DIR"
cd "$work"
setpriv --reuid="$uid" --regid="$gid" --init-groups -- \
  env -i HOME="${home:-/tmp}" USER="$user" "${run_env[@]}" \
  /bin/sh -c 'umask 002 && exec "$@"' sh "${vitest[@]}" "${files[@]}"
