import type { Service } from '../engine/service-types.js';
import type { GetServiceOptions } from './connect.js';

/**
 * The service a CLI verb talks to: the daemon when one answers (started on demand, see
 * `src/cli/connect.ts`), else the engine in this process. `ENVD_NO_DAEMON=1` forces
 * in-process without touching the socket.
 */
export async function openService(opts: GetServiceOptions = {}): Promise<Service> {
  if (process.env.ENVD_NO_DAEMON === '1') {
    const { LocalService } = await import('../engine/service.js');
    return new LocalService();
  }
  const { getService } = await import('./connect.js');
  return getService(opts);
}
