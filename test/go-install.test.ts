import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox, type RunResult } from './helpers/sandbox.js';
import { fakeGoroot } from './fixtures/go/sdk.js';
import { listingJson, makeArchive, startDlServer, type Archive, type DlServer } from './fixtures/go/dl-server.js';

// `envd go install` and `envd go uninstall` through the real binary, against a go.dev
// stand-in on 127.0.0.1 (no other network). Commands run asynchronously: the server lives
// in this process and must keep answering while envd downloads.

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/go/install/install.js'))) throw new Error(`dist/ is not built: run 'npm run build' before these tests (${ENVD_BIN} loads dist/cli/main.js)`);
});

let server: DlServer;
let a1225: Archive;
let a1224: Archive;
let a1219: Archive;
let a123rc: Archive;

beforeAll(async () => {
  server = await startDlServer();
  [a1225, a1224, a1219, a123rc] = await Promise.all([makeArchive('1.22.5'), makeArchive('1.22.4'), makeArchive('1.21.9'), makeArchive('1.23rc1')]);
});
afterAll(async () => {
  await server.close();
});

let sb: Sandbox;
let env: Record<string, string>;
let sdkRoot: string;
beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  env = { ENVD_GO_SYSTEM_ROOTS: sb.path('sys/usr/lib/go-*'), PATH: `${sb.mkdir('empty')}:/usr/bin:/bin`, ENVD_GO_DOWNLOAD_URL: server.base };
  sdkRoot = join(sb.home, '.local/share/envd/go');
  server.setListing(listingJson([{ archive: a123rc }, { archive: a1225 }, { archive: a1224 }, { archive: a1219 }]));
  for (const a of [a1225, a1224, a1219, a123rc]) server.setArchive(a.filename, a.bytes);
  server.requests.length = 0;
});
afterEach(() => {
  sb.cleanup();
});

function envd(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
  return sb.envdAsync(args, { cwd: opts.cwd ?? sb.root, env: { ...env, ...opts.env } });
}

/** A port on 127.0.0.1 that nothing listens on (it was just released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** What is in envd's SDK directory, temporary entries included. */
function entries(): string[] {
  return existsSync(sdkRoot) ? readdirSync(sdkRoot).sort() : [];
}

describe('envd go install VERSION', () => {
  it('downloads, verifies and installs an exact version; it is then listed as envd and usable', async () => {
    const r = await envd(['go', 'install', '1.22.5']);
    expect(r.stderr).toBe('envd: installed go 1.22.5 in ~/.local/share/envd/go/1.22.5\n');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(join(sdkRoot, '1.22.5') + '\n');
    expect(entries()).toEqual(['1.22.5']);
    const go = sb.run(join(sdkRoot, '1.22.5/bin/go'), ['version']);
    expect(go.stdout).toMatch(/^go version go1\.22\.5 /);
    const list = JSON.parse((await envd(['go', 'list', '--json'])).stdout) as { version: string; path: string; source: string }[];
    expect(list).toEqual([{ version: '1.22.5', path: join(sdkRoot, '1.22.5'), source: 'envd' }]);
    expect(server.requests).toContain('/dl/?mode=json&include=all');
  });

  it('on a terminal a progress bar is drawn (quiet otherwise, as the test above shows)', async () => {
    // util-linux's script(1) gives envd a pseudo-terminal; asynchronous, so the server in
    // this process keeps answering.
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', `${ENVD_BIN} go install 1.22.5`, '/dev/null'], { cwd: sb.root, env: { ...sb.env, ...env, TERM: 'xterm' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { text += d; });
      child.on('error', reject);
      child.on('close', () => resolve(text));
    });
    expect(out).toMatch(/envd: [^\n]*go1\.22\.5[^\n]*\[[= ]*\] \d+%/);
    expect(out).toContain('installed go 1.22.5');
    expect(entries()).toEqual(['1.22.5']);
  });

  it('a prefix means its newest release; latest is the newest stable release, not a pre-release', async () => {
    const r = await envd(['go', 'install', '1.22']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(join(sdkRoot, '1.22.5') + '\n');
    const again = await envd(['go', 'install', 'latest']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toBe('envd: go 1.22.5 is already installed in ~/.local/share/envd/go/1.22.5\n');
    const rc = await envd(['go', 'install', 'go1.23rc1']);
    expect(rc.status, rc.stderr).toBe(0);
    expect(entries()).toEqual(['1.22.5', '1.23rc1']);
  });

  it('a release already installed elsewhere (a system SDK) is not downloaded again', async () => {
    fakeGoroot(sb.path('sys/usr/lib/go-1.22'), '1.22.5');
    const r = await envd(['go', 'install', '1.22']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(sb.path('sys/usr/lib/go-1.22') + '\n');
    expect(entries()).toEqual([]);
  });

  it('a version the listing does not have, or that is not a version: one clear line', async () => {
    const r = await envd(['go', 'install', '1.30']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^envd: go install: no Go release matching 1\.30 for \w+\/\w+ in http:\/\/127\.0\.0\.1:\d+\/dl\/\n$/);
    const bad = await envd(['go', 'install', 'banana']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("'banana' is not a Go version");
  });

  it('[go] download_url is the mirror when ENVD_GO_DOWNLOAD_URL is not set; an unreachable one is one line', async () => {
    sb.write(join(sb.home, '.config/envd/envd.toml'), `[go]\ndownload_url = "${server.base.replace(/\/$/, '')}"\n`);
    const r = await envd(['go', 'install', '1.21.9'], { env: { ENVD_GO_DOWNLOAD_URL: undefined } });
    expect(r.status, r.stderr).toBe(0);
    expect(entries()).toEqual(['1.21.9']);
    const port = await closedPort();
    const off = await envd(['go', 'install', '1.22.5'], { env: { ENVD_GO_DOWNLOAD_URL: `http://127.0.0.1:${port}/dl/` } });
    expect(off.status).toBe(1);
    expect(off.stderr).toMatch(new RegExp(`^envd: go install: cannot fetch the Go download listing http://127\\.0\\.0\\.1:${port}/dl/\\?mode=json&include=all: ECONNREFUSED`));
  });
});

describe('envd go install (what the directory pins)', () => {
  it('installs the pinned version; once installed, there is nothing to do', async () => {
    const proj = sb.mkdir('home/proj');
    sb.write(join(proj, '.go-version'), '1.21.9\n');
    const r = await envd(['go', 'install'], { cwd: proj });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('wants go 1.21.9 (~/proj/.go-version)');
    expect(r.stdout).toBe(join(sdkRoot, '1.21.9') + '\n');
    const again = await envd(['go', 'install', '--dir', proj]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toBe('envd: go 1.21.9 (envd) is installed and meets 1.21.9 (~/proj/.go-version); nothing to install\n');
  });

  it('use go with a missing version names the exact install command; after it, use go finds it', async () => {
    const proj = sb.mkdir('home/proj');
    sb.write(join(proj, '.go-version'), '1.22\n');
    sb.write(join(proj, '.envrc'), 'use go\n');
    expect((await envd(['allow', proj])).status).toBe(0);
    const before = await envd(['exec', proj, 'go', 'version']);
    expect(before.stderr).toContain('Go 1.22.x is not installed (from ~/proj/.go-version); installed: none found (add other locations to [go] sdk_dirs in envd.toml); install it with: envd go install 1.22');
    expect((await envd(['go', 'install', '1.22'])).status).toBe(0);
    const after = await envd(['exec', proj, 'go', 'version']);
    expect(after.stdout).toMatch(/^go version go1\.22\.5 /);
  });
});

describe('verification: nothing is unpacked from an archive that does not match the listing', () => {
  it('a tampered archive (SHA-256 differs) is a clear error and leaves nothing behind', async () => {
    const evil = Buffer.from(a1225.bytes);
    evil[evil.length - 20] = (evil[evil.length - 20] ?? 0) ^ 0xff;
    server.setArchive(a1225.filename, evil);
    const r = await envd(['go', 'install', '1.22.5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^envd: go install: http:\/\/127\.0\.0\.1:\d+\/dl\/go1\.22\.5\.\w+-\w+\.tar\.gz does not match the listing's SHA-256 \(expected [0-9a-f]{64}, got [0-9a-f]{64}\); nothing was unpacked or installed\n$/);
    expect(entries()).toEqual([]);
    expect(JSON.parse((await envd(['go', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('an interrupted download (connection closed halfway) is a clear error and leaves nothing behind', async () => {
    server.setArchive(a1225.filename, a1225.bytes, 'cut');
    const r = await envd(['go', 'install', '1.22.5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^envd: go install: the download of \S+ (was cut off|ended) after \d+ of \d+ bytes.*nothing was installed, try again\n$/);
    expect(entries()).toEqual([]);
  });

  it('an archive that is not the release it is listed as is refused after unpacking, and removed', async () => {
    const wrong = await makeArchive('1.22.5', { versionFile: '1.22.4' });
    server.setListing(listingJson([{ archive: wrong }]));
    server.setArchive(wrong.filename, wrong.bytes);
    const r = await envd(['go', 'install', '1.22.5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('envd: go install: the archive for go 1.22.5 holds go 1.22.4; nothing was installed\n');
    expect(entries()).toEqual([]);
  });

  it('a listing without a SHA-256 for the archive is refused before downloading', async () => {
    server.setListing(listingJson([{ archive: a1225, sha256: '' }]));
    const r = await envd(['go', 'install', '1.22.5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('refusing to install an archive that cannot be checked');
    expect(server.requests.filter((p) => p.endsWith('.tar.gz'))).toEqual([]);
  });
});

describe('interrupted by the user', () => {
  it('Ctrl-C (SIGINT) during the download: exit 130, nothing installed, nothing left behind', async () => {
    // The server sends half the archive and then nothing more.
    server.setArchive(a1225.filename, a1225.bytes, 'stall');
    const child = spawn(ENVD_BIN, ['go', 'install', '1.22.5'], { env: { ...sb.env, ...env }, cwd: sb.root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Wait until the download is under way: its temporary file exists beside the SDKs.
    const started = (): boolean => entries().some((e) => e.startsWith('.download-'));
    for (let i = 0; i < 300 && !started(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(started()).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toBe('envd: go install: interrupted; nothing was installed\n');
    expect(entries()).toEqual([]);
  });
});

describe('concurrency', () => {
  it('two installs of one version at once both succeed and end with one SDK', async () => {
    // The server holds each download until both are in flight, so the installs overlap.
    server.setArchive(a1225.filename, a1225.bytes, 'barrier', 2);
    const [x, y] = await Promise.all([envd(['go', 'install', '1.22.5']), envd(['go', 'install', '1.22.5'])]);
    expect(x.status, x.stderr).toBe(0);
    expect(y.status, y.stderr).toBe(0);
    expect(x.stdout).toBe(join(sdkRoot, '1.22.5') + '\n');
    expect(y.stdout).toBe(join(sdkRoot, '1.22.5') + '\n');
    expect(server.requests.filter((p) => p.endsWith('.tar.gz'))).toHaveLength(2);
    expect(entries()).toEqual(['1.22.5']);
    const list = JSON.parse((await envd(['go', 'list', '--json'])).stdout) as unknown[];
    expect(list).toHaveLength(1);
  });
});

describe('envd go uninstall', () => {
  it('removes an SDK envd installed, and only those', async () => {
    expect((await envd(['go', 'install', '1.22.5'])).status).toBe(0);
    const r = await envd(['go', 'uninstall', 'go1.22.5']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('envd: removed go 1.22.5 (~/.local/share/envd/go/1.22.5)\n');
    expect(entries()).toEqual([]);
    const again = await envd(['go', 'uninstall', '1.22.5']);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe("envd: go 1.22.5 is not installed by envd; 'envd go list' shows what is installed\n");
    fakeGoroot(sb.path('sys/usr/lib/go-1.19'), '1.19.8');
    const other = await envd(['go', 'uninstall', '1.19.8']);
    expect(other.status).toBe(1);
    expect(other.stderr).toBe(`envd: go 1.19.8 was not installed by envd: ${sb.path('sys/usr/lib/go-1.19')} (debian); remove it with the tool that installed it\n`);
    expect(existsSync(sb.path('sys/usr/lib/go-1.19/bin/go'))).toBe(true);
  });
});

describe('[go] install = "auto" (the daemon installs a missing pinned Go in the background)', () => {
  let daemonSb: Sandbox;
  afterEach(() => {
    daemonSb?.cleanup();
  });

  it('the prompt says it is installing and does not wait; a later prompt applies Go', async () => {
    daemonSb = new Sandbox();
    const s = daemonSb;
    const denv = { ENVD_GO_SYSTEM_ROOTS: s.path('sys/usr/lib/go-*'), PATH: `${s.mkdir('empty')}:/usr/bin:/bin` };
    s.write(join(s.home, '.config/envd/envd.toml'), `[go]\ninstall = "auto"\ndownload_url = "${server.base}"\n`);
    const proj = s.mkdir('home/proj');
    s.write(join(proj, '.go-version'), '1.22.5\n');
    s.write(join(proj, '.envrc'), 'use go\nexport LOADED=1\n');
    expect((await s.envdAsync(['allow', proj], { env: denv })).status).toBe(0);
    // The download is held until the test lets it go: the first answer cannot have waited for it.
    server.setArchive(a1225.filename, a1225.bytes, 'barrier', 2);
    const first = await s.envdAsync(['export', 'json'], { cwd: proj, env: denv });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain('envd: installing go1.22.5 in the background (from ~/proj/.go-version; [go] install = "auto"); Go applies at a prompt after it finishes');
    const vars = JSON.parse(first.stdout) as Record<string, string | null>;
    expect(vars.LOADED).toBe('1');
    expect(vars.GOROOT).toBeUndefined();
    // Only the envd daemon downloads; now let it finish (a second waiter opens the barrier).
    await fetch(new URL(a1225.filename, server.base)).then((r) => r.arrayBuffer());
    const root = join(s.home, '.local/share/envd/go/1.22.5');
    let goroot: string | null | undefined;
    for (let i = 0; i < 200 && goroot !== root; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const next = await s.envdAsync(['export', 'json'], { cwd: proj, env: denv });
      goroot = next.stdout.trim() === '' ? undefined : (JSON.parse(next.stdout) as Record<string, string | null>).GOROOT;
    }
    expect(goroot).toBe(root);
    expect(readdirSync(join(s.home, '.local/share/envd/go'))).toEqual(['1.22.5']);
    const v = await s.envdAsync(['exec', proj, 'go', 'version'], { env: denv });
    expect(v.stdout).toMatch(/^go version go1\.22\.5 /);
  });

  it('without the daemon nothing is installed automatically: the error names envd go install', async () => {
    const proj = sb.mkdir('home/proj');
    sb.write(join(proj, '.go-version'), '1.22.5\n');
    sb.write(join(proj, '.envrc'), 'use go\n');
    sb.write(join(sb.home, '.config/envd/envd.toml'), '[go]\ninstall = "auto"\n');
    expect((await envd(['allow', proj])).status).toBe(0);
    const r = await envd(['export', 'json'], { cwd: proj });
    expect(r.stderr).toContain('install it with: envd go install 1.22.5');
    expect(entries()).toEqual([]);
    expect(server.requests).toEqual([]);
  });
});
