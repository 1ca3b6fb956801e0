import { identityOf } from '../../src/config/identity.js';
import { resolvePaths } from '../../src/config/paths.js';
import { ProtocolClient } from '../../src/protocol/client.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import type { Sandbox } from './sandbox.js';

/**
 * A connection to the sandbox's daemon that has said hello as the sandbox's user (the
 * daemon serves nothing else on a connection before that), as the CLI does.
 */
export async function connectAs(sb: Sandbox, timeoutMs = 2000): Promise<ProtocolClient> {
  const paths = resolvePaths(sb.env);
  const c = await ProtocolClient.connect(paths.socketPath, timeoutMs);
  try {
    await c.request({ type: 'hello', client: { version: 't', protocol: PROTOCOL_VERSION, pid: process.pid, identity: identityOf(paths) } }, timeoutMs);
  } catch (err) {
    c.close();
    throw err;
  }
  return c;
}
