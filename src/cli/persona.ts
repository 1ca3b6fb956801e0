/**
 * `envd direnv VERB ...`: the form the `direnv` shim uses (docs/migrating-from-direnv.md).
 * Every verb behaves the same either way except where direnv's identity shows: `version`.
 * A module flag, not an environment variable, so it never leaks into `envd exec` children.
 */
let asDirenv = false;

export function actAsDirenv(): void {
  asDirenv = true;
}

export function actingAsDirenv(): boolean {
  return asDirenv;
}
