import { isAbsolute, join, resolve } from 'node:path';
import type { RpcHandler } from '../eval/rpc-types.js';
import { tildePath } from '../config/paths.js';
import { isDirectory, isFile } from '../util/fs.js';
import { errorMessage } from '../util/errors.js';
import { MAX_PIN_FILE_BYTES, readRegularText } from '../util/safe-read.js';
import { ancestors } from './files.js';
import { GoResolutionError, notInstalledMessage, parseWant, type GoWant } from './resolve.js';
import { notInstalledReply, type GoRpcOptions } from './rpc.js';
import type { GoProvider, GoResolution } from './types.js';
import type { ProcessEnv } from '../env/diff.js';

// `use asdf` for people coming from asdf-direnv: the tools of `.tool-versions`, found as
// asdf finds them, without running asdf or its plugins. Go goes through envd's own
// discovery (asdf's installs included) and gets what `use go` gives; every other tool
// listed gets the `bin` directory of its asdf install on PATH (asdf's default bin path).


function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v !== '' ? v : undefined;
}

/** Every tool of a `.tool-versions` with its versions, in file order (the first line of a tool counts). */
export function parseToolVersionsFile(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const [tool, ...versions] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (tool === undefined || tool === '' || versions.length === 0 || out.has(tool)) continue;
    out.set(tool, versions);
  }
  return out;
}

interface ToolPin {
  versions: string[];
  file: string;
}

/**
 * What asdf would use for each tool from `dir`: for each tool, the nearest `.tool-versions`
 * (asdf's `ASDF_DEFAULT_TOOL_VERSIONS_FILENAME`) walking up that lists it, then the one
 * in the home directory. Returns the tools in the order they were first seen.
 */
export function asdfToolPins(dir: string, home: string, env: ProcessEnv, consulted: string[]): Map<string, ToolPin> {
  const name = nonEmpty(env.ASDF_DEFAULT_TOOL_VERSIONS_FILENAME) ?? '.tool-versions';
  const files: string[] = [];
  for (const d of ancestors(dir)) files.push(join(d, name));
  const global = join(home, name);
  if (!files.includes(global)) files.push(global);
  const pins = new Map<string, ToolPin>();
  for (const file of files) {
    if (!isFile(file)) continue;
    consulted.push(file);
    const text = readRegularText(file, MAX_PIN_FILE_BYTES) ?? '';
    for (const [tool, versions] of parseToolVersionsFile(text)) {
      if (!pins.has(tool)) pins.set(tool, { versions, file });
    }
  }
  // Creating one where the .envrc lives, or the global one, changes the answer.
  for (const f of [join(dir, name), global]) if (!consulted.includes(f)) consulted.push(f);
  return pins;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** The install directory of one tool version under asdf's data dir, or null for `system`. */
function installDir(dataDir: string, tool: string, version: string): string | null {
  if (version === 'system') return null;
  if (version.startsWith('path:')) return version.slice('path:'.length);
  const v = version.startsWith('ref:') ? `ref-${version.slice('ref:'.length)}` : version;
  if (!SAFE_NAME.test(tool) || !SAFE_NAME.test(v)) return null;
  return join(dataDir, 'installs', tool, v);
}

/**
 * The `asdf` RPC behind `use asdf`: args [dir] → pairs of fields: `goroot` and `goversion`
 * (the Go selected), `goerror` (the Go pinned is not there), `path` (a bin directory,
 * first tool first), `notice` (one line naming the tools that are not installed).
 */
export function asdfRpcHandler(provider: GoProvider, opts: GoRpcOptions = {}): RpcHandler {
  return async (args, ctx) => {
    const rawDir = args[0] ?? '';
    const dir = rawDir === '' ? ctx.dir : isAbsolute(rawDir) ? rawDir : resolve(ctx.dir, rawDir);
    const home = ctx.paths.home;
    const show = (p: string): string => tildePath(p, home);
    const dataDir = nonEmpty(ctx.env.ASDF_DATA_DIR) ?? join(home, '.asdf');
    const consulted: string[] = [];
    let pins: Map<string, ToolPin>;
    try {
      pins = asdfToolPins(dir, home, ctx.env, consulted);
    } catch (err) {
      for (const f of consulted) ctx.watch(f);
      return { ok: false, message: `use asdf: ${errorMessage(err)}` };
    }
    const fields: string[] = [];
    const missing: string[] = [];
    for (const [tool, pin] of pins) {
      if (tool === 'golang' || tool === 'go') {
        const go = await resolveGoPin(provider, dir, pin, show);
        if ('fields' in go) fields.push(...go.fields);
        else if (go.error instanceof GoResolutionError && go.error.code === 'GO_NOT_INSTALLED') {
          fields.push('goerror', await notInstalledReply(go.error, provider, ctx, opts));
        } else fields.push('goerror', go.error.message);
        continue;
      }
      // Installing a missing version into asdf's data dir is noticed.
      ctx.watch(join(dataDir, 'installs', tool));
      let found = false;
      for (const v of pin.versions) {
        if (v === 'system') {
          found = true;
          break;
        }
        const d = installDir(dataDir, tool, v);
        if (d !== null && isDirectory(d)) {
          if (isDirectory(join(d, 'bin'))) fields.push('path', join(d, 'bin'));
          found = true;
          break;
        }
      }
      if (!found) missing.push(`${tool} ${pin.versions.join(' or ')}`);
    }
    for (const f of consulted) ctx.watch(f);
    if (missing.length > 0) {
      fields.push('notice', `use asdf: not installed under ${show(dataDir)}: ${missing.join(', ')} (run 'asdf install')`);
    }
    return { ok: true, fields };
  };
}

/** The Go a `.tool-versions` golang entry selects: its versions tried in order, as asdf does. */
async function resolveGoPin(provider: GoProvider, dir: string, pin: ToolPin, show: (p: string) => string): Promise<{ fields: string[] } | { error: Error }> {
  const reason = `golang entry of ${show(pin.file)}`;
  const usable = pin.versions.filter((v) => v !== 'system' && !v.startsWith('ref:') && !v.startsWith('path:'));
  if (usable.length === 0) return { fields: [] };
  const wants: GoWant[] = [];
  for (const v of usable) {
    const w = parseWant(v);
    if (w === null) return { error: new Error(`${show(pin.file)}: golang entry '${v}' is not a Go version (expected e.g. 1.22.5, 1.22 or go1.22.5)`) };
    wants.push(w);
  }
  for (const v of usable) {
    let r: GoResolution;
    try {
      r = provider.resolve(dir, v);
    } catch (err) {
      if (err instanceof GoResolutionError && err.code === 'GO_NOT_INSTALLED') continue;
      return { error: err instanceof Error ? err : new Error(String(err)) };
    }
    return { fields: ['goroot', r.sdk.root, 'goversion', r.sdk.version] };
  }
  const request = { wants, reason };
  return { error: new GoResolutionError('GO_NOT_INSTALLED', notInstalledMessage(request, provider.list()), [pin.file], request) };
}
