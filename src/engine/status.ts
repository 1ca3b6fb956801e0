import type { TrustVerdict } from '../allowlist/index.js';
import type { LoadedConfig } from '../config/config.js';
import { tildePath } from '../config/paths.js';
import { errorMessage } from '../util/errors.js';
import type { FoundFile } from './find.js';
import type { StatusInfo } from './service-types.js';
import type { ShellState } from './shell-state.js';

export interface StatusFacts {
  cwd: string;
  found: FoundFile | null;
  state: ShellState;
  /** The verdict on the found file's content, owner and mode (throws when unreadable or unsafe). */
  judge: () => TrustVerdict;
  /** The sourced file that blocks an approval (the export's rule), or null. */
  blockingSourced: (v: TrustVerdict) => string | null;
  home: string;
  loaded: LoadedConfig;
}

/** `envd status` for one directory and shell: what applies, whether it is trusted and why not. */
export function statusOf(f: StatusFacts): StatusInfo {
  const { found, state, home } = f;
  let trust = 'none';
  let trustDetail = 'no .envrc here or above';
  if (found !== null) {
    try {
      const v = f.judge();
      // The same rule the export applies: a recorded sourced file that changed blocks it.
      const stale = f.blockingSourced(v);
      trust = v.kind === 'unknown' || stale !== null ? 'blocked' : v.kind;
      trustDetail = stale !== null ? `${tildePath(stale, home)} changed since the approval: run 'envd allow'`
        : v.kind === 'allowed' ? 'approved with this exact content'
          : v.kind === 'whitelisted' ? (found.kind === 'go-auto' ? 'a Go version pin under [go] auto = true: it runs no code' : 'trusted by [whitelist] in the config')
            : v.kind === 'denied' ? "denied with 'envd deny'"
              : v.kind === 'store-error' ? v.message
                : "not approved (new or changed): run 'envd allow'";
    } catch (err) {
      trust = 'blocked';
      trustDetail = errorMessage(err);
    }
  }
  const changed = state.diff === null ? [] : Object.keys(state.diff.next).filter((n) => !n.startsWith('DIRENV_'));
  return {
    cwd: f.cwd,
    found: found?.path ?? null,
    foundKind: found?.kind ?? null,
    trust,
    trustDetail,
    loadedDir: state.dir,
    loadedFile: state.file,
    changed,
    daemon: { running: false, pid: null, version: null },
    configFiles: f.loaded.files,
    configWarnings: f.loaded.warnings,
  };
}
