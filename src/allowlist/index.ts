// The signed allowlist. Importing this module starts nothing and touches no files.
export type { Allowlist, AllowlistStore, SourcedRecord, StoreStatus, TrustVerdict, WriteReport } from './types.js';
export { openAllowlist, type OpenOptions } from './store.js';
export { contentHash } from './hash.js';
export { checkFileSafety, judgeFile, type FileSafety, type TrustBinding } from './file-safety.js';
export { placeOf } from './place.js';
export { Whitelist, isUnder } from './whitelist.js';
export { verifyWithPublicKey, FORMAT_NAME, FORMAT_VERSION, type Decoded, type TrustRecord, type DenyEntry } from './format.js';
