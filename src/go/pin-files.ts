// File names only (no parsing, no imports): the CLI's start-up path and the hooks' marker
// list need the names without loading the parsers.

/**
 * mise's project config files, relative to a directory, strongest first: the order in
 * which mise (2026.9) lets them override each other within one directory, as `mise config
 * ls` lists them bottom-up (the `.local` variants over the shared ones, the dotted file
 * over the plain one, the top-level files over those in `mise/`, `.mise/` and `.config/`).
 * `.tool-versions` comes after all of them. `conf.d/*.toml` fragments are not read.
 */
export const MISE_FILES = [
  '.mise.local.toml', 'mise.local.toml', 'mise/config.local.toml', '.mise/config.local.toml',
  '.config/mise/config.local.toml',
  '.mise.toml', 'mise.toml', 'mise/config.toml', '.mise/config.toml', '.config/mise.toml',
  '.config/mise/config.toml',
] as const;

/** Every file name that can pin a Go version in a directory. */
export const GO_PIN_FILES: readonly string[] = ['go.work', 'go.mod', '.go-version', '.golang-version', '.gvmrc', ...MISE_FILES, '.tool-versions'];
