import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { DAEMON_NODE_FLAGS } from '../daemon/memory.js';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { errorMessage } from '../util/errors.js';
import { ENVD_NODE_ENTRY, PACKAGE_ROOT } from '../version.js';
import type { ProcessEnv } from '../env/diff.js';

/**
 * `envd daemon install [--print] [--force] [--remove] [--platform linux|darwin]`: a systemd
 * user unit (Linux) or a launchd agent (macOS) that runs `envd daemon run`, for people who
 * want the OS to own the daemon. Autostart stays the default and keeps working alongside:
 * the start lock makes whichever comes first the one daemon, and the other finds it.
 *
 * Only the file is written; enabling it is one command we print, because starting services
 * is the user's call (and `systemctl --user` may not be reachable from where envd runs).
 */

export type UnitPlatform = 'linux' | 'darwin';

export const SYSTEMD_UNIT_NAME = 'envd.service';
export const LAUNCHD_LABEL = 'dev.envd.daemon';
/** Written into every unit so `--remove` and `--force` only ever touch our own file. */
const MARKER = 'Written by envd daemon install';

export interface UnitInputs {
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of the CLI's Node entry (bin/envd is a shell front door). */
  envd: string;
  /** PATH the daemon runs with: services start with a bare PATH, and evaluations need bash. */
  path: string;
  /** Extra environment to pin (XDG dirs that differ from the defaults, ENVD_* knobs). */
  env: Record<string, string>;
}

/** The variables a unit carries over: where envd's files live, so the daemon and the shells agree. */
const CARRIED = ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'ENVD_RUNTIME_DIR', 'ENVD_LOG_LEVEL', 'DIRENV_CONFIG'] as const;

function unitInputs(env: ProcessEnv): UnitInputs {
  const carried: Record<string, string> = {};
  for (const k of CARRIED) {
    const v = env[k];
    if (v !== undefined && v !== '') carried[k] = v;
  }
  return { node: process.execPath, envd: ENVD_NODE_ENTRY, path: env.PATH ?? '/usr/local/bin:/usr/bin:/bin', env: carried };
}

/** systemd's quoting for an Environment= assignment: double quotes, `\` escapes, `%` (specifiers) doubled. */
function systemdQuote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, '%%')}"`;
}

/** An ExecStart= word: as above, and `$` doubled, since systemd expands variables there. */
function systemdExecWord(s: string): string {
  return systemdQuote(s).replace(/\$/g, '$$$$');
}

function systemdUnit(u: UnitInputs): string {
  const envLines = [['PATH', u.path] as const, ...Object.entries(u.env)]
    .map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`);
  return [
    `# ${MARKER}. Enable: systemctl --user daemon-reload && systemctl --user enable --now ${SYSTEMD_UNIT_NAME}`,
    '[Unit]',
    'Description=envd: directory-scoped environments for bash, zsh and fish',
    `Documentation=file://${join(PACKAGE_ROOT, 'docs', 'architecture.md')}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[u.node, ...DAEMON_NODE_FLAGS, u.envd].map(systemdExecWord).join(' ')} daemon run`,
    ...envLines,
    // A clean exit is the daemon stepping aside (another one won, or an upgrade replaced
    // it): restarting then would only fight the autostarted one.
    'Restart=on-failure',
    'RestartSec=2',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function launchdPlist(u: UnitInputs, logFile: string): string {
  const str = (s: string): string => `<string>${xmlEscape(s)}</string>`;
  const env = [['PATH', u.path] as const, ...Object.entries(u.env)]
    .map(([k, v]) => `      <key>${xmlEscape(k)}</key>\n      ${str(v)}`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- ${MARKER}. Enable: launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/${LAUNCHD_LABEL}.plist -->
<plist version="1.0">
  <dict>
    <key>Label</key>
    ${str(LAUNCHD_LABEL)}
    <key>ProgramArguments</key>
    <array>
      ${[u.node, ...DAEMON_NODE_FLAGS, u.envd].map(str).join('\n      ')}
      ${str('daemon')}
      ${str('run')}
    </array>
    <key>EnvironmentVariables</key>
    <dict>
${env}
    </dict>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <dict>
      <key>SuccessfulExit</key>
      <false/>
    </dict>
    <key>StandardOutPath</key>
    ${str(logFile)}
    <key>StandardErrorPath</key>
    ${str(logFile)}
    <key>ProcessType</key>
    ${str('Background')}
  </dict>
</plist>
`;
}

export interface UnitTarget {
  platform: UnitPlatform;
  file: string;
  text: string;
  enable: string;
  disable: string;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v !== '' ? v : undefined;
}

function unitTarget(platform: UnitPlatform, env: ProcessEnv): UnitTarget {
  const home = nonEmpty(env.HOME) ?? homedir();
  const u = unitInputs(env);
  if (platform === 'linux') {
    const config = nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, '.config');
    return {
      platform,
      file: join(config, 'systemd', 'user', SYSTEMD_UNIT_NAME),
      text: systemdUnit(u),
      enable: `systemctl --user daemon-reload && systemctl --user enable --now ${SYSTEMD_UNIT_NAME}`,
      disable: `systemctl --user disable --now ${SYSTEMD_UNIT_NAME}`,
    };
  }
  const state = nonEmpty(env.XDG_STATE_HOME) ?? join(home, '.local', 'state');
  const file = join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  return {
    platform,
    file,
    text: launchdPlist(u, join(state, 'envd', 'launchd.log')),
    enable: `launchctl bootstrap gui/$(id -u) ${file}`,
    disable: `launchctl bootout gui/$(id -u)/${LAUNCHD_LABEL}`,
  };
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

const USAGE = 'usage: envd daemon install [--print] [--force] [--remove] [--platform linux|darwin]';

function isOurs(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes(MARKER);
  } catch {
    return false;
  }
}

/** Entry point for `envd daemon install ARGS...`; returns the exit status. */
export async function installDaemonUnit(args: string[], env: ProcessEnv = process.env): Promise<number> {
  let print = false;
  let force = false;
  let remove = false;
  let platform: UnitPlatform | null = process.platform === 'linux' ? 'linux' : process.platform === 'darwin' ? 'darwin' : null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--print') print = true;
    else if (a === '--force') force = true;
    else if (a === '--remove') remove = true;
    else if (a === '--platform' || a?.startsWith('--platform=') === true) {
      const v = a === '--platform' ? args[++i] : a.slice('--platform='.length);
      if (v !== 'linux' && v !== 'darwin') { say(`envd: --platform takes linux or darwin. ${USAGE}`); return 2; }
      platform = v;
    } else { say(`envd: daemon install: unknown argument '${a ?? ''}'. ${USAGE}`); return 2; }
  }
  if (platform === null) {
    say(`envd: daemon install knows systemd (Linux) and launchd (macOS), not ${process.platform}; the daemon still starts on first use`);
    return 1;
  }
  const t = unitTarget(platform, env);
  if (print) {
    process.stdout.write(t.text);
    return 0;
  }
  if (remove) {
    if (!existsSync(t.file)) { say(`envd: ${t.file} does not exist; nothing to remove`); return 0; }
    if (!isOurs(t.file)) { say(`envd: ${t.file} was not written by envd; remove it yourself if you mean to`); return 1; }
    say(`envd: first stop it: ${t.disable}`);
    rmSync(t.file);
    say(`envd: removed ${t.file}`);
    return 0;
  }
  if (existsSync(t.file) && !force) {
    if (readFileSync(t.file, 'utf8') === t.text) {
      say(`envd: ${t.file} is already installed and current. Enable it with: ${t.enable}`);
      return 0;
    }
    say(`envd: ${t.file} exists and differs; --force replaces it${isOurs(t.file) ? '' : ' (it was not written by envd)'}`);
    return 1;
  }
  try {
    mkdirSync(dirname(t.file), { recursive: true, mode: 0o755 });
    writeFileAtomic(t.file, t.text, 0o644);
  } catch (err) {
    say(`envd: cannot write ${t.file}: ${errorMessage(err)}`);
    return 1;
  }
  say(`envd: wrote ${t.file}`);
  say(`envd: enable it with: ${t.enable}`);
  say('envd: autostart keeps working either way; whichever starts first is the one daemon');
  return 0;
}
