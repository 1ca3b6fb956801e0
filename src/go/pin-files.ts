// File names only (no parsing, no imports): the CLI's start-up path and the hooks' marker
// list need the names without loading the parsers.

/**
 * mise's project config files, in the order mise lets them override each other within one
 * directory (a local file over the shared one); `.tool-versions` comes after them.
 */
export const MISE_FILES = ['mise.local.toml', '.mise.local.toml', 'mise.toml', '.mise.toml'] as const;

/** Every file name that can pin a Go version in a directory. */
export const GO_PIN_FILES: readonly string[] = ['go.work', 'go.mod', '.go-version', ...MISE_FILES, '.tool-versions'];
