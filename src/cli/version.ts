import { DIRENV_COMPAT_VERSION, envdVersion } from '../version.js';
import { actingAsDirenv } from './persona.js';
import { say } from './command.js';
import { compareSemver } from '../util/semver.js';

/**
 * `envd version` prints it; `envd version MIN` exits 1 when older than MIN (as direnv does).
 * Called as direnv (`envd direnv version`, the shim), the version is the direnv release envd
 * stands in for: scripts that check `direnv version 2.21.0` mean direnv's features.
 */
export async function run(args: string[]): Promise<number> {
  const asDirenv = actingAsDirenv();
  const v = asDirenv ? DIRENV_COMPAT_VERSION : envdVersion();
  const min = args[0];
  if (min === undefined) {
    process.stdout.write(v + '\n');
    return 0;
  }
  if (compareSemver(v, min) < 0) {
    say(asDirenv
      ? `envd: this needs direnv ${min} or later; envd stands in for direnv ${v}`
      : `envd: version ${v} is older than the required ${min}; update envd.`);
    return 1;
  }
  return 0;
}
