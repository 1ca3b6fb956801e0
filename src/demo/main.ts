import { join } from 'node:path';
import { writeProjects, writeConfig } from './projects.js';
import { DemoSandbox } from './sandbox.js';
import { chooseSdks } from './sdks.js';
import { interactiveRc, rcPath, runInteractive, runTour, tourRc, type HookMode, type ShellPlan } from './shell.js';

/**
 * `npm run demo` (node dist/demo/main.js): a sandboxed bash with envd's hook and a few
 * projects. On a terminal it is yours to explore; otherwise (CI, a pipe) it plays a
 * scripted tour through the same hook and exits with the tour's status.
 */

const HELP = `usage: npm run demo [-- OPTIONS]   (or: node dist/demo/main.js [OPTIONS])

  --tour        play the scripted tour even on a terminal
  --demo-sdks   use stand-in Go SDKs even when real ones are installed
  --no-daemon   run envd in-process (ENVD_NO_DAEMON=1) instead of with the daemon
  --keep        keep the sandbox directory afterwards (its path is printed)
`;

interface Options {
  tour: boolean;
  demoSdks: boolean;
  daemon: boolean;
  keep: boolean;
}

function parseArgs(args: string[]): Options | string {
  const o: Options = { tour: process.stdin.isTTY !== true, demoSdks: false, daemon: true, keep: false };
  for (const a of args) {
    if (a === '--tour') o.tour = true;
    else if (a === '--demo-sdks') o.demoSdks = true;
    else if (a === '--no-daemon') o.daemon = false;
    else if (a === '--keep') o.keep = true;
    else return a;
  }
  return o;
}

function say(line: string): void {
  process.stderr.write(`envd demo: ${line}\n`);
}

/** Whether this build has the prompt hook; the demo says so and stands in for it when not. */
function hookMode(sb: DemoSandbox): HookMode {
  const r = sb.envd(['hook', 'bash']);
  return r.status === 0 && r.stdout.trim() !== '' ? 'hook' : 'fallback';
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    say(`unknown option '${parsed}'`);
    process.stderr.write(HELP);
    return 2;
  }
  const opts = parsed;
  const sb = new DemoSandbox(process.env, { daemon: opts.daemon });
  const cleanup = (): void => sb.dispose(opts.keep);
  try {
    const sdks = chooseSdks(process.env, join(sb.root, 'demo-sdks'), { forceDemo: opts.demoSdks });
    writeConfig(sb, sdks);
    const projects = writeProjects(sb, sdks);
    // The Go projects and the slow one are approved up front; needs-approval is yours to approve.
    for (const dir of [projects.legacy, projects.canary, projects.slow]) {
      const r = sb.envd(['allow', dir]);
      if (r.status !== 0) {
        say(`could not approve ${dir}: ${(r.stderr.trim().split('\n').pop() ?? '').trim() || `exit ${String(r.status)}`}`);
        return 1;
      }
    }
    const hook = hookMode(sb);
    const plan: ShellPlan = { sb, sdks, projects, hook, daemon: opts.daemon };
    const rc = rcPath(plan);
    if (opts.tour) {
      sb.write(rc, tourRc(plan));
      process.stdout.write(`envd demo: scripted tour (stdin is not a terminal; run 'npm run demo' in a terminal to explore)\n`);
      process.stdout.write(`  sandbox  ${sb.root}\n  hook     ${hook === 'hook' ? 'eval "$(envd hook bash)"' : 'fallback PROMPT_COMMAND=\'eval "$(envd export bash)"\' (envd hook bash is not in this build yet)'}\n`);
      process.stdout.write(`  daemon   ${opts.daemon ? 'on' : 'off (ENVD_NO_DAEMON=1)'}\n`);
      process.stdout.write(`  Go       ${sdks.legacy.version} and ${sdks.canary.version}${sdks.demoReason !== null ? ` (demo SDKs, ${sdks.demoReason}: stand-ins, not real Go)` : ' (installed on this machine)'}\n`);
      return await runTour(plan, rc, 120_000);
    }
    sb.write(rc, interactiveRc(plan));
    return await runInteractive(plan, rc);
  } finally {
    cleanup();
    if (opts.keep) say(`the sandbox is kept at ${sb.root} (HOME=${sb.home})`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    say(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
