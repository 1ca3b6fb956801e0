// Errors that reach a person carry a stable code (for tests, JSON output and the
// protocol) and a one-line message that says what to do next.
export const ERROR_CODES = [
  'CONFIG_INVALID', 'ALLOWLIST_CORRUPT', 'ALLOWLIST_PERMISSIONS', 'ALLOWLIST_KEY', 'ALLOWLIST_LOCKED',
  'RUNTIME_DIR_UNSAFE', 'SOCKET_PATH_TOO_LONG', 'DAEMON_UNREACHABLE', 'PROTOCOL', 'NOT_FOUND', 'USAGE',
  'FILE_UNSAFE', 'PATH_NOT_UTF8', 'PATH_TOO_LONG', 'EVAL_FAILED', 'GO_NOT_INSTALLED', 'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class EnvdError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'EnvdError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Node's system errors carry `code` (ENOENT, EACCES...). */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
