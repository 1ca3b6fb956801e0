import type { CommandModule } from './command.js';
import { EnvdError, errorMessage } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { hasRawBytes } from '../env/bytes.js';

/**
 * Verb table. Each verb loads its module only when used, so `envd hook bash` does not pay
 * for the daemon's or the evaluator's imports. A Map: the verb comes from the command line,
 * and on a plain object `envd constructor` would find Object.prototype's functions.
 */
const verbs = new Map<string, () => Promise<CommandModule>>(Object.entries({
  export: () => import('./export.js'),
  allow: () => import('./trust.js').then((m) => ({ run: m.runAllow })),
  permit: () => import('./trust.js').then((m) => ({ run: m.runAllow })),
  grant: () => import('./trust.js').then((m) => ({ run: m.runAllow })),
  deny: () => import('./trust.js').then((m) => ({ run: m.runDeny })),
  block: () => import('./trust.js').then((m) => ({ run: m.runDeny })),
  revoke: () => import('./trust.js').then((m) => ({ run: m.runDeny })),
  disallow: () => import('./trust.js').then((m) => ({ run: m.runDeny })),
  prune: () => import('./trust.js').then((m) => ({ run: m.runPrune })),
  exec: () => import('./exec.js'),
  status: () => import('./status.js'),
  stdlib: () => import('./stdlib.js'),
  version: () => import('./version.js'),
  hook: () => import('./hook.js'),
  daemon: () => import('./daemon.js'),
  go: () => import('./go.js'),
  doctor: () => import('./doctor.js'),
  completion: () => import('./completion.js'),
  // direnv's internal and compat verbs (the stdlib, editors and scripts call them).
  dump: () => import('./compat.js').then((m) => ({ run: m.runDump })),
  apply_dump: () => import('./compat.js').then((m) => ({ run: m.runApplyDump })),
  show_dump: () => import('./compat.js').then((m) => ({ run: m.runShowDump })),
  watch: () => import('./compat.js').then((m) => ({ run: m.runWatch })),
  'watch-dir': () => import('./compat.js').then((m) => ({ run: m.runWatchDir })),
  'watch-list': () => import('./compat.js').then((m) => ({ run: m.runWatchList })),
  'watch-print': () => import('./compat.js').then((m) => ({ run: m.runWatchPrint })),
  dotenv: () => import('./compat.js').then((m) => ({ run: m.runDotenv })),
  current: () => import('./compat.js').then((m) => ({ run: m.runCurrent })),
  fetchurl: () => import('./compat.js').then((m) => ({ run: m.runFetchurl })),
  edit: () => import('./compat.js').then((m) => ({ run: m.runEdit })),
  reload: () => import('./compat.js').then((m) => ({ run: m.runReload })),
  'check-required': () => import('./compat.js').then((m) => ({ run: m.runCheckRequired })),
} satisfies Record<string, () => Promise<CommandModule>>));

function help(): string {
  return [
    'envd: directory-scoped environments for bash, zsh, fish, elvish, tcsh and nushell',
    '',
    'usage: envd <command> [args]',
    '',
    '  hook SHELL                print the prompt hook (eval "$(envd hook bash)"; also zsh,',
    '                            fish, elvish, tcsh, nushell)',
    '  allow [PATH]              approve an .envrc (aliases: permit, grant)',
    '  deny [PATH]               block an .envrc (aliases: block, revoke, disallow)',
    '  export SHELL|json|gha     print what changes in this directory',
    '  exec DIR CMD [ARGS...]    run a command with DIR\'s environment',
    '  status [--json]           what is loaded and why',
    '  prune                     drop approvals of files that are gone or changed',
    '  edit [PATH]               open the .envrc in $EDITOR, approve it if it changed',
    '  reload                    evaluate the current .envrc again at the next prompt',
    '  stdlib                    print the bash stdlib',
    '  go list|which|install|uninstall  Go SDKs: found, which one a directory gets, install',
    '  daemon start|stop|restart|status|run|logs',
    '  version [MIN]             print the version, or check it is at least MIN',
    '  doctor                    check the hook, daemon, runtime dir, allowlist, config, bash, Go',
    '  completion bash|zsh|fish  print shell completions',
    '  direnv COMMAND [args]     the same command, standing in for direnv (the `direnv` shim)',
  ].join('\n');
}

async function main(args: string[]): Promise<number> {
  let argv = args;
  // The direnv shim runs `envd direnv "$@"`.
  if (argv[0] === 'direnv') {
    (await import('./persona.js')).actAsDirenv();
    argv = argv.slice(1);
  }
  // Node decodes arguments lossily: `caf\xe9` would arrive as a look-alike name. Paths and
  // commands are bytes, so an argument that is not UTF-8 is refused, saying which.
  const exact = (await import('./env.js')).processArgs();
  const notText = exact?.find((a) => hasRawBytes(a));
  if (notText !== undefined) {
    process.stderr.write(`envd: the argument ${printable(notText)} is not UTF-8; envd cannot act on a name that is not UTF-8 (rename it to use envd with it)\n`);
    return 2;
  }
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
    process.stdout.write(help() + '\n');
    return verb === undefined ? 2 : 0;
  }
  if (verb === '--version') return (await import('./version.js')).run([]);
  const load = verbs.get(verb);
  if (load === undefined) {
    process.stderr.write(`envd: unknown command '${verb}'. Run 'envd help' for the list.\n`);
    return 2;
  }
  const mod = await load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    // Errors may quote a path (Node's own messages do): never raw control characters.
    const msg = printable(err instanceof EnvdError ? err.message : `internal error: ${errorMessage(err)}`);
    process.stderr.write(msg.startsWith('envd:') ? `${msg}\n` : `envd: ${msg}\n`);
    // A bug report needs the stack; ordinary users get the one line.
    if (!(err instanceof EnvdError) && err instanceof Error && process.env.ENVD_DEBUG === '1') process.stderr.write(`${err.stack ?? ''}\n`);
    process.exitCode = 1;
  },
);
