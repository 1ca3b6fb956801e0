import type { ShellName } from '../shells/names.js';
import { EnvdError } from '../util/errors.js';

/** The constants and the error of the hook-records format (see hook-records.ts). */

export const HOOK_MAGIC = 'ENVD-HOOK';
export const HOOK_VERSION = 1;

/** A whole request (header and environment). Linux's ARG_MAX for argv+envp is 2 MiB. */
export const MAX_HOOK_REQUEST_BYTES = 4 * 1024 * 1024;

export class HookProtocolError extends EnvdError {
  constructor(message: string) {
    super('PROTOCOL', `hook records: ${message}`);
    this.name = 'HookProtocolError';
  }
}

/** The shells that speak hook records (every shell envd has a hook for). */
export type HookShell = ShellName;
