
/**
 * Hook records: the wire format between the prompt hooks (shells/NAME/hook.*) and the daemon.
 * Every field is NUL-terminated (no variable name or value can hold a NUL), so a shell
 * reads it with builtins alone: bash `mapfile -d ''`, zsh `${(0)…}`, fish `string split0`.
 *
 * Request:  `ENVD-HOOK` `1` ID SHELL FLAGS CWD, then NAME VALUE pairs of the exported
 *           environment, then an empty field (in a NAME position; values may be empty).
 * Reply:    `ENVD-HOOK` `1` ID, records, `z` ID. The daemon writes `ENVD-HOOK 1 ID w MS`
 *           as soon as it has read a request's header (the hook then knows the daemon is
 *           alive and how long it may take), and the rest once the answer is ready.
 *
 * A hook applies nothing until it has read `z` with its own ID at a record boundary, so an
 * answer cut off at any byte changes nothing (see decodeReply, which is the reference for
 * what the three hooks do).
 */

export * from './hook-format.js';
export * from './hook-request.js';
export * from './hook-reply.js';
export * from './declare-px.js';
