import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Sandbox } from './sandbox.js';
import type { Account } from './users.js';

/**
 * The other user's side of the runtime-dir tests (test/hooks-runtime-dir.test.ts for bash,
 * zsh and fish, test/more-shells-runtime-dir.test.ts for elvish, tcsh and nushell).
 */

const EVIL_PATH = '/tmp/evilbin:/usr/bin:/bin';

/**
 * The other side: listens on daemon.sock (mode 0777) and reads hook.fifo, logs every byte
 * anyone sends, and answers a hook request with an evil PATH, as a real attacker would.
 */
export const LISTENER = `
import { createServer, Socket } from 'node:net';
import { appendFileSync, chmodSync, constants, openSync, writeFileSync } from 'node:fs';
const [dir, log] = process.argv.slice(2);
writeFileSync(log, '');
const server = createServer((c) => {
  let buf = '';
  let answered = false;
  c.on('data', (d) => {
    appendFileSync(log, d);
    buf += d.toString('latin1');
    const f = buf.split('\\0');
    if (!answered && f.length > 3) {
      answered = true;
      c.end(['ENVD-HOOK', '1', f[2], 'w', '200', 'x', 'PATH', ${JSON.stringify(EVIL_PATH)}, 'x', 'EVIL', '1', 'z', f[2], ''].join('\\0'));
    }
  });
  c.on('error', () => {});
});
server.listen(dir + '/daemon.sock', () => {
  chmodSync(dir + '/daemon.sock', 0o777);
  const fifo = new Socket({ fd: openSync(dir + '/hook.fifo', constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
  fifo.on('data', (d) => appendFileSync(log, d));
  process.stdout.write('ready\\n');
});
`;

/** Every name under dir (not following links), with its type: what "nothing created" compares. */
export function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const st = lstatSync(join(dir, name));
    const kind = st.isDirectory() ? 'd' : st.isFIFO() ? 'p' : st.isSocket() ? 's' : st.isSymbolicLink() ? 'l' : 'f';
    out.push(`${kind} ${prefix}${name}`);
    if (kind === 'd') out.push(...tree(join(dir, name), `${prefix}${name}/`));
  }
  return out;
}

export interface Scene {
  sb: Sandbox;
  A: string;
  out: string;
  hookFile: string;
}

/**
 * A sandbox without XDG_RUNTIME_DIR with one approved project (approved in-process: the
 * runtime dir is not usable) and the shell's hook saved to a file. `cleanup` gets the
 * sandbox's removal.
 */
export function hostileScene(shell: string, cleanup: (fn: () => void) => void, user?: Account): Scene {
  const sb = new Sandbox({ xdgRuntime: false, lang: 'C', ...(user !== undefined ? { user } : {}) });
  cleanup(() => sb.cleanup());
  const A = sb.mkdir('A');
  const out = sb.mkdir('out');
  sb.write('A/.envrc', 'export A_VAR=a\n', 0o644);
  const allow = sb.envd(['allow', A], { env: { ENVD_NO_DAEMON: '1' } });
  expect(allow.status, allow.stderr).toBe(0);
  const hook = sb.envd(['hook', shell]);
  expect(hook.status, hook.stderr).toBe(0);
  const hookFile = sb.write(`hook.${shell}`, hook.stdout);
  return { sb, A, out, hookFile };
}
