/**
 * The serving side of the declarations in methods.ts: one handler per method, typed from
 * its declaration (the request it takes, the result it returns), found by name in a Map.
 * Every handler is wrapped: whatever it throws becomes a ProtocolError, which the
 * connection sends as an error reply.
 */
import { ProtocolError } from './errors.js';
import type { RequestFrame, ResponseBody } from './messages.js';
import { METHODS, replyBody, type RequestType, type ResultOf } from './methods.js';

export type RequestOf<K extends RequestType> = Extract<RequestFrame, { type: K }>;
export type Handler<K extends RequestType, Ctx> = (req: RequestOf<K>, ctx: Ctx) => Promise<ResultOf<K>> | ResultOf<K>;
/** One handler for every method: a method without one is a type error. */
export type Handlers<Ctx> = { [K in RequestType]: Handler<K, Ctx> };

type Bound<Ctx> = (frame: RequestFrame, ctx: Ctx) => Promise<ResponseBody>;

export class Dispatcher<Ctx> {
  private readonly table = new Map<string, Bound<Ctx>>();

  /** `wrap`: what a handler's throw becomes (a ProtocolError passes through unchanged). */
  constructor(handlers: Handlers<Ctx>, private readonly wrap: (err: unknown, frame: RequestFrame) => ProtocolError) {
    const add = <K extends RequestType>(name: K): void => {
      const h: Handler<K, Ctx> = handlers[name];
      // The cast: the table is keyed by type, so a frame found under K is a K request.
      this.table.set(name, async (frame, ctx) => replyBody(name, await h(frame as RequestOf<K>, ctx)));
    };
    for (const name of Object.keys(METHODS) as RequestType[]) add(name);
  }

  async dispatch(frame: RequestFrame, ctx: Ctx): Promise<ResponseBody> {
    const h = this.table.get(frame.type);
    if (h === undefined) throw new ProtocolError('UNKNOWN_TYPE', `request type '${frame.type.slice(0, 64)}' is not served by this daemon`);
    try {
      return await h(frame, ctx);
    } catch (err) {
      throw err instanceof ProtocolError ? err : this.wrap(err, frame);
    }
  }
}
