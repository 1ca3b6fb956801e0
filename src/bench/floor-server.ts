/**
 * The floor under the 50-client rows: a Node process with the daemon's flags whose whole
 * work is to answer each request chunk with a fixed, valid reply (acknowledgement,
 * generation, end), timed with the same 50 zsh clients (zsh-clients.ts) in the same
 * bursts. What it costs per request is what Node's socket streams and the clients cost on
 * this machine before envd does anything: envd's figures are read against it, as cold
 * start is read against `node -e 0`. Importing this module starts nothing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../daemon/memory.js';
import { cpuNs } from './proc-cpu.js';
import { percentile } from './stats.js';
import { ZshClientPool } from './zsh-clients.js';

/**
 * The server: one whole request per chunk (the clients write each request in one write);
 * its id is the third NUL-ended field. Prints `ready` once listening.
 */
const SERVER = String.raw`
const net = require('node:net');
const server = net.createServer((s) => {
  s.on('data', (chunk) => {
    const a = chunk.indexOf(0), b = chunk.indexOf(0, a + 1), c = chunk.indexOf(0, b + 1);
    const id = chunk.toString('latin1', b + 1, c);
    s.write(Buffer.from(['ENVD-HOOK', '1', id, 'w', '200', 'g', '1', 'z', id, ''].join('\0'), 'latin1'));
  });
});
server.listen(process.argv[1], () => process.stdout.write('ready\n'));
`;

export interface FloorFigures {
  p50Us: number;
  p99Us: number;
  /** The server's CPU per request in the bursts. */
  cpuUs: number;
}

/** `rounds` bursts of `clients` zsh clients against the floor server, its files in `root` (the caller removes it). */
export async function measureFloor(root: string, clients: number, rounds: number): Promise<FloorFigures> {
  mkdirSync(root, { recursive: true });
  const socket = join(root, 'floor.sock');
  const server = spawn(process.execPath, [...DAEMON_NODE_FLAGS, '-e', SERVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let pool: ZshClientPool | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`the floor server exited (${code ?? '?'})`)));
    });
    const pid = server.pid;
    if (pid === undefined) throw new Error('the floor server has no pid');
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, SHLVL: '1', PWD: root };
    pool = new ZshClientPool(socket, env, 'f', clients, join(root, 'floor-clients'));
    const samples: number[] = [];
    let ns = 0;
    // Round 0 connects the clients: not timed, as in the envd rows.
    for (let r = 0; r <= rounds; r++) {
      const cpu0 = cpuNs(pid);
      const answers = await pool.burst(Array<string>(clients).fill(root));
      if (r === 0) continue;
      ns += cpuNs(pid) - cpu0;
      for (const a of answers) samples.push(a.us);
    }
    return { p50Us: percentile(samples, 50), p99Us: percentile(samples, 99), cpuUs: ns / 1000 / samples.length };
  } finally {
    await pool?.close();
    server.kill();
  }
}
