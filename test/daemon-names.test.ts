import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, parseJsonExport } from './helpers/sandbox.js';

// Names from files, the wire or the command line never reach a
// plain-object lookup (`constructor`, `__proto__`, `toString`, `hasOwnProperty` are found on
// every object): an unknown RPC or verb is an error reply or a usage error, and the daemon
// goes on. And a duration longer than a Node timer holds is refused at config load, not
// turned into a 1 ms timeout for every .envrc.

const OBJECT_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

let sb: Sandbox;
let pid: number;

beforeEach(() => {
  sb = new Sandbox();
  const r = sb.envd(['daemon', 'start']);
  if (r.status !== 0) throw new Error(r.stderr);
  pid = Number(/pid (\d+)/.exec(r.stderr)?.[1]);
});
afterEach(() => sb.cleanup());

function daemonPid(): number | null {
  const r = sb.envd(['daemon', 'status', '--json']);
  return (JSON.parse(r.stdout) as { pid?: number | null }).pid ?? null;
}

function socketPath(): string {
  const xdg = sb.env.XDG_RUNTIME_DIR;
  return xdg !== undefined ? join(xdg, 'envd', 'daemon.sock') : join(sb.env.TMPDIR ?? '', `envd-${process.getuid?.() ?? 0}`, 'daemon.sock');
}

/** Send JSON lines, half-close, collect the replies until the daemon closes. */
function ask(lines: object[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: socketPath() });
    let data = '';
    s.on('data', (d: Buffer) => { data += d.toString('utf8'); });
    s.on('error', reject);
    s.on('close', () => resolve(data.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)));
    s.on('connect', () => { s.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'); });
  });
}

describe('names from outside', () => {
  it('an .envrc calling __envd_rpc with Object.prototype names gets errors; the daemon stays and answers', () => {
    const dir = sb.mkdir('p');
    const calls = OBJECT_NAMES.map((n) => `__envd_rpc ${n} x || echo "refused ${n}"`).join('\n');
    sb.write('p/.envrc', `${calls}\nexport AFTER=1\n`, 0o644);
    expect(sb.envd(['allow', dir]).status).toBe(0);
    const r = sb.envd(['export', 'json'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(parseJsonExport(r.stdout).AFTER).toBe('1');
    for (const n of OBJECT_NAMES) {
      expect(r.stderr).toContain(`does not know the request '${n}'`);
      expect(r.stderr).toContain(`refused ${n}`);
    }
    expect(r.stderr).not.toContain('working without');
    expect(daemonPid()).toBe(pid);
    // Still answering requests.
    const again = sb.envd(['export', 'json'], { cwd: dir });
    expect(parseJsonExport(again.stdout).AFTER).toBe('1');
    expect(daemonPid()).toBe(pid);
  });

  it('envd with an Object.prototype name as its verb: a usage error, exit 2', () => {
    for (const n of OBJECT_NAMES) {
      const r = sb.envd([n]);
      expect(r.status, `${n}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`envd: unknown command '${n}'. Run 'envd help' for the list.\n`);
      // The same through the direnv shim's entry.
      expect(sb.envd(['direnv', n]).status).toBe(2);
    }
  });

  it('a JSON request whose type is an Object.prototype name: an error reply; the daemon goes on', async () => {
    for (const n of OBJECT_NAMES) {
      const replies = await ask([{ v: 1, id: 7, type: n }]);
      expect(replies[0], n).toMatchObject({ id: 7, type: 'error', error: { code: 'UNKNOWN_TYPE' } });
    }
    const pong = await ask([{ v: 1, id: 8, type: 'ping' }]);
    expect(pong[0]).toMatchObject({ id: 8, type: 'pong' });
    expect(daemonPid()).toBe(pid);
  });
});

describe('durations past a Node timer (2^31 ms, 24.8 days)', () => {
  it('eval_timeout = "600h" is refused at config load with a message; .envrc files still load', () => {
    sb.write('home/.config/envd/envd.toml', '[global]\neval_timeout = "600h"\nwarn_timeout = "1000h"\n');
    const dir = sb.mkdir('t');
    sb.write('t/.envrc', 'sleep 0.05\nexport TIMED=ok\n', 0o644);
    expect(sb.envd(['allow', dir]).status).toBe(0);
    const r = sb.envd(['export', 'json'], { cwd: dir });
    expect(parseJsonExport(r.stdout).TIMED, r.stderr).toBe('ok');
    const status = sb.envd(['status'], { cwd: dir });
    expect(status.stdout + status.stderr).toMatch(/global\.eval_timeout' must be at most 596h/);
    expect(status.stdout + status.stderr).toMatch(/global\.warn_timeout' must be at most 596h/);
    // 596 hours fits, and is taken.
    sb.write('home/.config/envd/envd.toml', '[global]\neval_timeout = "596h"\n');
    const ok = sb.envd(['status'], { cwd: dir });
    expect(ok.stdout + ok.stderr).not.toContain('must be at most');
    expect(parseJsonExport(sb.envd(['export', 'json'], { cwd: dir }).stdout).TIMED).toBe('ok');
  });

  it('a budget past the timer limit means "wait", not "pending at once"', () => {
    const dir = sb.mkdir('b');
    sb.write('b/.envrc', 'sleep 0.3\nexport WAITED=yes\n', 0o644);
    expect(sb.envd(['allow', dir]).status).toBe(0);
    const r = sb.envd(['export', 'json', '--budget', '3000000000'], { cwd: dir });
    expect(parseJsonExport(r.stdout).WAITED, r.stderr).toBe('yes');
  });
});
