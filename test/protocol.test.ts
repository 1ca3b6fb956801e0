import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../src/protocol/errors.js';
import { LineDecoder, MAX_FRAME_BYTES, encodeFrame } from '../src/protocol/framing.js';
import {
  PROTOCOL_VERSION, budgetFromWire, budgetToWire, errorFrame, parseRequestLine, parseResponseLine,
  requestFrame, responseFrame, type ResponseFrame,
} from '../src/protocol/messages.js';

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}

describe('framing', () => {
  it('splits frames across and within chunks', () => {
    const d = new LineDecoder();
    expect(d.push(Buffer.from('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(d.buffered).toBe(4);
    expect(d.push(Buffer.from(':2}\n\n{"c":3}\n'))).toEqual(['{"b":2}', '', '{"c":3}']);
    expect(d.buffered).toBe(0);
  });

  it('keeps multi-byte characters split between chunks intact', () => {
    const d = new LineDecoder();
    const bytes = Buffer.from('"é€😀"\n');
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.subarray(i, i + 1)));
    expect(out).toEqual(['"é€😀"']);
  });

  it('rejects a frame over the cap, with or without a newline', () => {
    const small = new LineDecoder(16);
    expect(protocolError(() => small.push(Buffer.alloc(17, 0x61))).code).toBe('FRAME_TOO_LARGE');
    const small2 = new LineDecoder(16);
    small2.push(Buffer.alloc(10, 0x61));
    expect(protocolError(() => small2.push(Buffer.from('aaaaaaaaaa\n'))).code).toBe('FRAME_TOO_LARGE');
    const ok = new LineDecoder(16);
    expect(ok.push(Buffer.from('a'.repeat(16) + '\n'))).toEqual(['a'.repeat(16)]);
    expect(MAX_FRAME_BYTES).toBe(16 * 1024 * 1024);
  });

  it('encodes one line per message, newlines in values escaped', () => {
    const text = encodeFrame({ s: 'a\nb' });
    expect(text.split('\n')).toHaveLength(2);
    expect(text.endsWith('\n')).toBe(true);
    expect(protocolError(() => encodeFrame({ s: 'x'.repeat(64) }, 32)).code).toBe('FRAME_TOO_LARGE');
  });
});

describe('requests', () => {
  const env = { PATH: '/bin', WEIRD: 'a\nb\u0000c' };

  it('round-trips every request type', () => {
    const bodies = [
      { type: 'hello', client: { version: '1.2.3', protocol: PROTOCOL_VERSION, pid: 42, identity: null } },
      { type: 'hello', client: { version: '1.2.3', protocol: PROTOCOL_VERSION, pid: 42, identity: { home: '/h', configDir: '/h/.config/envd', direnvConfigDir: '/h/.config/direnv', dataDir: '/h/.local/share/envd' } } },
      { type: 'ping' },
      { type: 'export', req: { cwd: '/p', env }, budgetMs: 200 },
      { type: 'export', req: { cwd: '/p', env }, budgetMs: null },
      { type: 'allow', path: '.', cwd: '/p' },
      { type: 'deny', path: '/p/.envrc', cwd: '/' },
      { type: 'prune' },
      { type: 'status', req: { cwd: '/p', env } },
      { type: 'shutdown' },
    ] as const;
    bodies.forEach((body, i) => {
      const frame = requestFrame(i, body);
      expect(frame.v).toBe(PROTOCOL_VERSION);
      expect(parseRequestLine(encodeFrame(frame).trimEnd())).toEqual(frame);
    });
  });

  it.each([
    ['not JSON', '{"v":1,', 'BAD_FRAME'],
    ['an array', '[1,2]', 'BAD_FRAME'],
    ['a string', '"hello"', 'BAD_FRAME'],
    ['no version', '{"id":1,"type":"ping"}', 'BAD_REQUEST'],
    ['a fractional id', '{"v":1,"id":1.5,"type":"ping"}', 'BAD_REQUEST'],
    ['a negative id', '{"v":1,"id":-1,"type":"ping"}', 'BAD_REQUEST'],
    ['no type', '{"v":1,"id":1}', 'BAD_REQUEST'],
    ['an unknown type', '{"v":1,"id":1,"type":"format-disk"}', 'UNKNOWN_TYPE'],
    ['an env value that is not a string', '{"v":1,"id":1,"type":"export","req":{"cwd":"/","env":{"A":1}},"budgetMs":1}', 'BAD_REQUEST'],
    ['a missing env', '{"v":1,"id":1,"type":"status","req":{"cwd":"/"}}', 'BAD_REQUEST'],
    ['a negative budget', '{"v":1,"id":1,"type":"export","req":{"cwd":"/","env":{}},"budgetMs":-5}', 'BAD_REQUEST'],
    ['a missing budget', '{"v":1,"id":1,"type":"export","req":{"cwd":"/","env":{}}}', 'BAD_REQUEST'],
    ['allow without cwd', '{"v":1,"id":1,"type":"allow","path":"."}', 'BAD_REQUEST'],
    ['hello without client', '{"v":1,"id":1,"type":"hello"}', 'BAD_REQUEST'],
    ['an identity without its data dir', '{"v":1,"id":1,"type":"hello","client":{"version":"1","protocol":1,"pid":1,"identity":{"home":"/h","configDir":"/c","direnvConfigDir":"/d"}}}', 'BAD_REQUEST'],
    ['a type named like an Object member', '{"v":1,"id":1,"type":"__proto__"}', 'UNKNOWN_TYPE'],
    ['a type named constructor', '{"v":1,"id":1,"type":"constructor"}', 'UNKNOWN_TYPE'],
  ])('rejects %s', (_what, line, code) => {
    expect(protocolError(() => parseRequestLine(line)).code).toBe(code);
  });

  it('does not take inherited properties for fields', () => {
    const line = '{"v":1,"id":1,"type":"export","req":{"cwd":"/","env":{"__proto__":{"x":1}}},"budgetMs":1}';
    expect(protocolError(() => parseRequestLine(line)).code).toBe('BAD_REQUEST');
  });

  it('carries unlimited budgets as null', () => {
    expect(budgetToWire(Infinity)).toBeNull();
    expect(budgetFromWire(null)).toBe(Infinity);
    expect(budgetFromWire(budgetToWire(250))).toBe(250);
  });
});

describe('responses', () => {
  it('round-trips results and errors', () => {
    const frames: ResponseFrame[] = [
      responseFrame(1, { type: 'pong' }),
      responseFrame(2, { type: 'export', result: { kind: 'loaded', change: { set: { A: 'x' }, unset: ['B'] }, messages: ['envd: loading'], file: '/p/.envrc' } }),
      responseFrame(3, { type: 'allow', result: { file: '/p/.envrc', message: '' } }),
      responseFrame(4, { type: 'prune', result: { removed: 3 } }),
      responseFrame(5, {
        type: 'hello',
        result: {
          pid: 1, version: '0.1.0', protocol: 1, socket: '/s', startedAt: 1, uptimeMs: 2, generation: 3, watched: 4, watchPending: 0, cached: 5, replayed: 6, watcher: 'degraded', engine: true,
          identity: { home: '/h', configDir: '/h/.config/envd', direnvConfigDir: '/d', dataDir: '/h/.local/share/envd' },
        },
      }),
      responseFrame(6, {
        type: 'status',
        result: {
          cwd: '/p', found: null, foundKind: null, trust: 'none', trustDetail: '', loadedDir: null, loadedFile: null,
          changed: [], daemon: { running: true, pid: 9, version: '0.1.0' }, configFiles: [], configWarnings: [],
        },
      }),
      errorFrame(null, new ProtocolError('BAD_FRAME', 'nope')),
      errorFrame(7, new ProtocolError('SERVICE_ERROR', 'blocked', 'FILE_UNSAFE')),
    ];
    for (const f of frames) expect(parseResponseLine(encodeFrame(f).trimEnd())).toEqual(f);
  });

  it('rejects results of the wrong shape', () => {
    const bad = [
      '{"v":1,"id":1,"type":"export","result":{"kind":"exploded","change":{"set":{},"unset":[]},"messages":[],"file":null}}',
      '{"v":1,"id":1,"type":"export","result":{"kind":"noop","change":{"set":{"A":null},"unset":[]},"messages":[],"file":null}}',
      '{"v":1,"id":1,"type":"error","error":{"code":"WHATEVER","message":"x"}}',
      '{"v":1,"id":"1","type":"pong"}',
      '{"v":1,"id":1,"type":"surprise"}',
    ];
    for (const line of bad) expect(protocolError(() => parseResponseLine(line)).code).toBe('BAD_FRAME');
  });

  it('reads a hello with only pid, version and protocol (any daemon version can be identified)', () => {
    const f = parseResponseLine('{"v":7,"id":1,"type":"hello","result":{"pid":5,"version":"9.0.0","protocol":7,"future":true}}');
    expect(f).toMatchObject({ v: 7, type: 'hello', result: { pid: 5, version: '9.0.0', protocol: 7, watched: 0, watcher: 'off' } });
    expect(() => parseResponseLine('{"v":7,"id":1,"type":"hello","result":{"pid":5,"protocol":7}}')).toThrow(ProtocolError);
  });

  it('drops an engine error code it does not know instead of trusting it', () => {
    const f = parseResponseLine('{"v":1,"id":1,"type":"error","error":{"code":"SERVICE_ERROR","message":"m","envdCode":"NEW_CODE"}}');
    expect(f).toEqual({ v: 1, id: 1, type: 'error', error: { code: 'SERVICE_ERROR', message: 'm' } });
  });
});

describe('environment names', () => {
  it('keeps a variable named __proto__ as an ordinary entry; other Object names read as absent', () => {
    const f = parseRequestLine('{"v":1,"id":1,"type":"status","req":{"cwd":"/","env":{"__proto__":"x","A":"b"}}}');
    if (f.type !== 'status') throw new Error('wrong type');
    expect(Object.entries(f.req.env)).toEqual([['__proto__', 'x'], ['A', 'b']]);
    // No prototype: an absent `constructor` reads as absent, not as Object's function.
    expect(Object.getPrototypeOf(f.req.env)).toBeNull();
    expect(f.req.env['constructor']).toBeUndefined();
  });
});
