/** An installed Go SDK, found without running it (from `$GOROOT/VERSION`). */
export interface GoSdk {
  /** `1.22.12` (no `go` prefix). */
  version: string;
  /** GOROOT. */
  root: string;
  /** Where it came from: `envd` (envd go install), `debian`, `usr-local`, `homebrew`, `sdk`, `gvm`, `asdf`, `mise`, `goenv`, `toolchain-cache`, `path`, `config` (`system`: another system root). */
  source: string;
}

export interface GoResolution {
  sdk: GoSdk;
  /** What was asked for, e.g. `1.22` or `>=1.21`. */
  wanted: string;
  /** Why, e.g. `go.mod toolchain line`, `.go-version`, `argument`. */
  reason: string;
  /** Files consulted (watched: editing one re-resolves). */
  consulted: string[];
  /** Things a person should know (e.g. the pin is older than go.mod's `go` line). */
  warnings?: string[];
}

export interface GoProvider {
  list(): GoSdk[];
  /** Throws EnvdError('GO_NOT_INSTALLED') with the one-line error a person reads. */
  resolve(dir: string, explicit?: string): GoResolution;
  /** Forget the cached list; the next call discovers again (after a watched root changed). */
  refresh?(): void;
  /** Directories whose changes may add or remove SDKs (for a watcher). */
  watchRoots?(): string[];
}

/** What createGoProvider returns: a GoProvider whose optional parts are all there. */
export interface CachedGoProvider extends GoProvider {
  refresh(): void;
  watchRoots(): string[];
}
