import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { GREETING, GREETING_VAR, SLOW_SECONDS, SLOW_VAR, type DemoProjects } from './projects.js';
import type { DemoSandbox } from './sandbox.js';
import type { SdkChoice } from './sdks.js';
import { quoteBash } from '../env/quote.js';

/** How the demo shell loads envd: the user's real hook line, or a stand-in while it is missing. */
export type HookMode = 'hook' | 'fallback';

export interface ShellPlan {
  sb: DemoSandbox;
  sdks: SdkChoice;
  projects: DemoProjects;
  hook: HookMode;
  daemon: boolean;
}

function tilde(path: string, home: string): string {
  return path.startsWith(home + '/') ? '~' + path.slice(home.length) : path;
}

/** The part of the rc every mode shares: what a user's ~/.bashrc would say. */
function hookSection(hook: HookMode): string {
  if (hook === 'hook') {
    return `# The line a user adds to ~/.bashrc:
eval "$(envd hook bash)"
`;
  }
  return `# 'envd hook bash' is not available in this build, so a plain prompt command stands in
# for it: the same engine, without the hook's fast path.
PROMPT_COMMAND='eval "$(envd export bash)"'
`;
}

function sdkLine(sdks: SdkChoice, home: string): string {
  const one = (s: SdkChoice['legacy']): string => `${s.version} (${tilde(s.root, home)})`;
  const label = sdks.demoReason === null
    ? 'installed on this machine'
    : `demo SDKs, ${sdks.demoReason}: stand-ins that answer go version and go env, not real Go`;
  return `${one(sdks.legacy)} and ${one(sdks.canary)}\n           ${label}`;
}

function tryLines(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([cmd]) => cmd.length));
  return rows.map(([cmd, why]) => `  ${cmd.padEnd(width)}   ${why}`);
}

export function banner(plan: ShellPlan): string {
  const { sb, sdks, projects } = plan;
  const t = (p: string): string => tilde(p, sb.home);
  const hook = plan.hook === 'hook' ? 'eval "$(envd hook bash)"' : 'PROMPT_COMMAND=\'eval "$(envd export bash)"\' (envd hook bash is not in this build yet)';
  const lines = [
    'envd demo: a throwaway bash. HOME and the XDG dirs are in a temporary sandbox;',
    'your own rc files and envd settings are not read or touched.',
    '',
    `  sandbox  ${sb.root}`,
    `  hook     ${hook}`,
    `  daemon   ${plan.daemon ? 'on (started on first use, stopped when you exit)' : 'off (ENVD_NO_DAEMON=1: everything in-process)'}`,
    `  Go       ${sdkLine(sdks, sb.home)}`,
    '',
    'Try:',
    ...tryLines([
      [`cd ${t(projects.legacy)}; go version`, `'use go ${sdks.legacy.minor}' in its .envrc`],
      [`cd ${t(projects.canary)}; go version`, `from go.mod: toolchain go${sdks.canary.version}`],
      ['echo $GOROOT $GOPATH $GOCACHE', 'the project\'s own GOPATH and GOCACHE'],
      ['cd ~', 'everything is restored'],
      [`cd ${t(projects.blocked)}`, 'blocked: read its .envrc, then envd allow'],
      [`cd ${t(projects.slow)}`, `takes ${SLOW_SECONDS} s; the prompt does not wait`],
    ]),
    '  envd status   envd go list   envd doctor',
    '',
    'Type exit to leave; the sandbox is deleted then (npm run demo -- --keep keeps it).',
  ];
  return lines.join('\n');
}

export function interactiveRc(plan: ShellPlan): string {
  return `# envd demo: this file stands in for ~/.bashrc inside the sandbox.
${hookSection(plan.hook)}
PS1='\\[\\e[1;36m\\](envd demo)\\[\\e[0m\\] \\w \\$ '
cd ~ || true
cat <<'ENVD_DEMO_BANNER'
${banner(plan)}
ENVD_DEMO_BANNER
`;
}

/**
 * The tour's rc: the same hook, then helpers the scripted lines call. Each scripted line
 * is read and run by an interactive bash, and the hook runs at the prompt after it, exactly
 * as when a person types the line. Children get /dev/null as stdin so none can eat the
 * script. Messages (stderr) are merged into stdout so the transcript reads in order.
 */
export function tourRc(plan: ShellPlan): string {
  const async = plan.hook === 'hook' && plan.daemon ? 1 : 0;
  return `# envd demo (scripted tour): this file stands in for ~/.bashrc inside the sandbox.
${hookSection(plan.hook)}
set +H
PS1='' PS2=''
exec 2>&1
cd ~ || true

__tour_fail=0 __tour_checks=0 __tour_t0=0 __tour_snap=''
__tour_async=${async}

__tour_us() {
  if [[ -n \${EPOCHREALTIME:-} ]]; then printf '%s' "\${EPOCHREALTIME/[.,]/}"; else printf '%s' "$((SECONDS * 1000000))"; fi
}
__tour_tilde() { local s=$1; printf '%s' "\${s//"$HOME"/\\~}"; }
__tour_env() {
  declare -px | grep -Ev '^declare -[-a-zA-Z]* (PWD|OLDPWD|_|ENVD_[A-Za-z0-9_]*|DIRENV_[A-Za-z0-9_]*|_+[eE][nN][vV][dD][A-Za-z0-9_]*)(=|$)'
}
__tour_var() {
  if [[ -n \${!1+set} ]]; then printf '   %-14s %s\\n' "$1" "$(__tour_tilde "\${!1}")"; else printf '   %-14s <unset>\\n' "$1"; fi
}
__tour_is_version() { [[ $1 == *"go$2 "* ]] || { [[ $2 == *.0 ]] && [[ $1 == *"go\${2%.0} "* ]]; }; }
__tour_inside() { local dir=$1 n; shift; for n in "$@"; do [[ \${!n:-} == "$dir"/* ]] || return 1; done; }
__tour_has() { command -v "$1" >/dev/null; }

tour_title() { printf '\\n== %s\\n' "$*"; }
tour_run() {
  printf '$ %s\\n' "$(__tour_tilde "$*")"
  __tour_t0=$(__tour_us)
  "$@" </dev/null
}
tour_check() {
  local desc=$1
  shift
  __tour_checks=$((__tour_checks + 1))
  if "$@"; then printf '   ok    %s\\n' "$desc"; else printf '   FAIL  %s\\n' "$desc"; __tour_fail=1; fi
}

# Under load an evaluation can outlast the prompt's budget (async_budget); the hook then
# applies it at a later prompt. Each call is one line, so one more prompt: silent when the
# directory's environment is already loaded.
tour_settle() {
  if [[ \${DIRENV_DIR-} != "-$PWD" ]]; then
    printf '   (not loaded yet: waiting for a later prompt)\n'
    sleep 0.5
  fi
}

tour_begin() {
  __tour_snap=$(__tour_env)
  tour_title 'before: outside any project'
  if __tour_has go; then printf '$ go version\\n%s\\n' "$(go version </dev/null 2>&1)"; else printf '$ go version\\n(no go on PATH)\\n'; fi
  local n
  for n in GOROOT GOPATH GOCACHE GOBIN GOTOOLCHAIN; do __tour_var "$n"; done
}

tour_go() {
  local want=$1 out root n
  out=$(go version </dev/null 2>&1) || out="go version failed: $out"
  printf '$ go version\\n%s\\n' "$out"
  root=$(go env GOROOT </dev/null 2>/dev/null)
  printf '$ go env GOROOT\\n%s\\n' "$root"
  for n in GOROOT GOPATH GOCACHE GOBIN GOTOOLCHAIN; do __tour_var "$n"; done
  tour_check "go version is go$want" __tour_is_version "$out" "$want"
  tour_check 'go env GOROOT agrees with $GOROOT' test -n "$root" -a "$root" = "\${GOROOT:-}"
  tour_check 'the go on PATH is $GOROOT/bin/go' test "$(command -v go)" = "\${GOROOT:-}/bin/go"
  tour_check 'GOPATH and GOCACHE are the project'"'"'s own' __tour_inside "$PWD" GOPATH GOCACHE
}

tour_restored() {
  local n now count
  if __tour_has go; then printf '$ go version\\n%s\\n' "$(go version </dev/null 2>&1)"; else printf '$ go version\\n(no go on PATH)\\n'; fi
  for n in GOROOT GOPATH GOCACHE GOBIN GOTOOLCHAIN; do __tour_var "$n"; done
  now=$(__tour_env)
  count=$(printf '%s\\n' "$__tour_snap" | grep -c '^declare')
  if [[ $now == "$__tour_snap" ]]; then
    tour_check "restored: all $count exported variables (PATH included) are exactly as before" true
  else
    tour_check 'restored: exported variables are exactly as before' false
    diff <(printf '%s\\n' "$__tour_snap") <(printf '%s\\n' "$now") | sed 's/^/      /'
  fi
}

tour_blocked() {
  __tour_var ${GREETING_VAR}
  tour_check 'the unapproved .envrc did not run' test -z "\${${GREETING_VAR}+set}"
}

tour_approved() {
  __tour_var ${GREETING_VAR}
  tour_check 'after envd allow it loaded at the next prompt' test "\${${GREETING_VAR}:-}" = ${quoteBash(GREETING)}
  tour_check 'its bin/ is on PATH (PATH_add bin)' __tour_has demo-hello
}

tour_slow() {
  local ms=$((($(__tour_us) - __tour_t0) / 1000))
  printf '   the prompt came back after %d ms\\n' "$ms"
  __tour_var ${SLOW_VAR}
  if [[ -z \${${SLOW_VAR}+set} ]]; then
    printf '   still loading: the daemon goes on evaluating; a later prompt applies the result\\n'
  else
    printf '   loaded already: this prompt waited for the .envrc\\n'
  fi
  if ((__tour_async)); then
    tour_check 'the prompt did not wait for the ${SLOW_SECONDS} s .envrc' test "$ms" -lt ${SLOW_SECONDS * 1000}
  fi
  printf '$ sleep ${SLOW_SECONDS + 1}\\n'
  sleep ${SLOW_SECONDS + 1}
}

tour_slow_done() {
  __tour_var ${SLOW_VAR}
  tour_check 'applied once the evaluation finished' test "\${${SLOW_VAR}:-}" = yes
}

tour_end() {
  # bash says "exit" on the way out of an interactive shell; the transcript does not need it.
  exec 2>/dev/null
  if ((__tour_fail)); then
    printf '\\ntour: %d checks, some FAILED (marked FAIL above)\\n' "$__tour_checks"
    exit 1
  fi
  printf '\\ntour: all %d checks passed\\n' "$__tour_checks"
  exit 0
}
`;
}

/** The scripted lines, one per prompt, as a person would type them. */
export function tourScript(plan: ShellPlan): string {
  const { sdks, projects, sb } = plan;
  const t = (p: string): string => tilde(p, sb.home);
  // Up to ten more prompts (5 s) for an evaluation that outlasted the prompt's budget.
  const settle = Array.from({ length: 10 }, () => 'tour_settle');
  return [
    'tour_begin',
    `tour_title ${quoteBash(`${t(projects.legacy)}: 'use go ${sdks.legacy.minor}' in its .envrc`)}`,
    `tour_run cd ${t(projects.legacy)}`,
    ...settle,
    `tour_go ${sdks.legacy.version}`,
    `tour_title ${quoteBash(`${t(projects.canary)}: 'use go' reads go.mod (toolchain go${sdks.canary.version})`)}`,
    `tour_run cd ${t(projects.canary)}`,
    ...settle,
    `tour_go ${sdks.canary.version}`,
    `tour_title ${quoteBash('leave: back to ~')}`,
    'tour_run cd ~',
    'tour_restored',
    `tour_title ${quoteBash(`${t(projects.blocked)}: a new .envrc is blocked until approved`)}`,
    `tour_run cd ${t(projects.blocked)}`,
    'tour_blocked',
    'tour_run envd allow',
    ...settle,
    'tour_approved',
    `tour_title ${quoteBash(`${t(projects.slow)}: an .envrc that takes ${SLOW_SECONDS} s`)}`,
    `tour_run cd ${t(projects.slow)}`,
    'tour_slow',
    ...settle,
    'tour_slow_done',
    `tour_title ${quoteBash('leave again')}`,
    'tour_run cd ~',
    'tour_restored',
    'tour_end',
    '',
  ].join('\n');
}

/** bash's complaints about a non-terminal stdin in interactive mode: true, and beside the point. */
const NOISE = [/cannot set terminal process group/, /no job control in this shell/];

/** Run the scripted tour in an interactive bash fed from a pipe; resolves with its exit status. */
export function runTour(plan: ShellPlan, rcFile: string, timeoutMs: number): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn('bash', ['--noediting', '--rcfile', rcFile, '-i'], { cwd: plan.sb.home, env: plan.sb.env, stdio: ['pipe', 'inherit', 'pipe'] });
    let pending = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (!NOISE.some((re) => re.test(l))) process.stderr.write(l + '\n');
    });
    const timer = setTimeout(() => {
      process.stderr.write(`envd demo: the tour did not finish within ${timeoutMs / 1000} s; stopping it\n`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      process.stderr.write(`envd demo: cannot run bash: ${err.message}\n`);
      resolvePromise(127);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pending !== '' && !NOISE.some((re) => re.test(pending))) process.stderr.write(pending + '\n');
      resolvePromise(code ?? (signal !== null ? 1 : 0));
    });
    child.stdin.on('error', () => { /* bash exited early; its status says why */ });
    child.stdin.end(tourScript(plan));
  });
}

/** Hand the terminal to an interactive bash; resolves when the user exits it. */
export function runInteractive(plan: ShellPlan, rcFile: string): Promise<number> {
  return new Promise((resolvePromise) => {
    // The terminal sends ^C to the whole foreground group: it is bash's to handle, not ours.
    const ignore = (): void => { /* bash handles it */ };
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    const child = spawn('bash', ['--rcfile', rcFile, '-i'], { cwd: plan.sb.home, env: plan.sb.env, stdio: 'inherit' });
    const done = (code: number): void => {
      process.off('SIGINT', ignore);
      process.off('SIGQUIT', ignore);
      resolvePromise(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`envd demo: cannot run bash: ${err.message}\n`);
      done(127);
    });
    child.on('close', () => done(0));
  });
}

export function rcPath(plan: ShellPlan): string {
  return join(plan.sb.root, 'demo.bashrc');
}
