import { which } from './sandbox.js';

/** The shells added after bash, zsh and fish, each with the command that runs it. */
export type MoreShell = 'elvish' | 'tcsh' | 'nushell';
export const MORE_SHELLS: MoreShell[] = ['elvish', 'tcsh', 'nushell'];
export const MORE_SHELL_BIN: Record<MoreShell, string> = { elvish: 'elvish', tcsh: 'tcsh', nushell: 'nu' };
const INSTALL: Record<MoreShell, string> = {
  elvish: 'apt-get install -y elvish',
  tcsh: 'apt-get install -y tcsh',
  nushell: 'npm install -g nushell (see .ci/run)',
};

/**
 * Whether one of these shells can be tested here. With ENVD_REQUIRE_SHELLS=1 (set by
 * .ci/run) a missing shell is a failure, not a skip (as haveShell in sandbox.ts).
 */
export function haveMoreShell(shell: MoreShell): boolean {
  const ok = which(MORE_SHELL_BIN[shell]) !== null;
  if (!ok && process.env.ENVD_REQUIRE_SHELLS === '1') {
    throw new Error(`${shell} is required (ENVD_REQUIRE_SHELLS=1) but not installed: ${INSTALL[shell]}`);
  }
  if (!ok) process.stderr.write(`[envd tests] SKIPPED: ${shell} is not installed; its tests are skipped (${INSTALL[shell]})\n`);
  return ok;
}
