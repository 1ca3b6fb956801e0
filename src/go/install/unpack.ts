import { mkdir } from 'node:fs/promises';
import { x as extract } from 'tar';
import { readGoroot } from '../discover.js';
import { GoInstallError } from './listing.js';

/**
 * Unpack a verified Go archive (`go/...` inside) into `into`, which becomes the GOROOT
 * itself. node-tar refuses absolute paths, `..` and writes through symlinks; owners are
 * never taken from the archive (it would as root). Only the `go/` tree is extracted.
 * Afterwards the tree must be the release that was asked for.
 */
export async function unpackSdk(archive: string, into: string, version: string): Promise<void> {
  await mkdir(into, { mode: 0o755 });
  const warnings: string[] = [];
  try {
    await extract({
      file: archive,
      cwd: into,
      strip: 1,
      preserveOwner: false,
      strict: true,
      filter: (path) => path === 'go' || path === 'go/' || path.startsWith('go/'),
      onwarn: (_code, message) => { warnings.push(message); },
    });
  } catch (err) {
    throw new GoInstallError(`cannot unpack ${archive}: ${err instanceof Error ? err.message : String(err)}; nothing was installed`);
  }
  const sdk = readGoroot(into);
  if (sdk === null || sdk.root !== into) {
    throw new GoInstallError(`the archive for go ${version} holds no Go SDK (no go/VERSION and go/bin/go)${warnings.length > 0 ? ` (${warnings[0]})` : ''}; nothing was installed`);
  }
  if (sdk.version !== version) {
    throw new GoInstallError(`the archive for go ${version} holds go ${sdk.version}; nothing was installed`);
  }
}
