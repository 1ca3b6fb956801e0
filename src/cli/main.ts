import { EnvdError, errorMessage } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { hasRawBytes } from '../env/bytes.js';
import { VERBS, verbIndex } from './verbs.js';

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
  if (verb === undefined || verb === '--help' || verb === '-h') {
    const code = (await import('./help.js')).printHelp(VERBS);
    return verb === undefined ? 2 : code;
  }
  if (verb === '--version') return (await import('./version.js')).run([]);
  // Every verb, its aliases, help and completion come from one spec each (verbs.ts).
  const spec = verbIndex().get(verb);
  if (spec === undefined) {
    process.stderr.write(`envd: unknown command '${verb}'. Run 'envd help' for the list.\n`);
    return 2;
  }
  const run = await spec.load();
  return run(rest);
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
