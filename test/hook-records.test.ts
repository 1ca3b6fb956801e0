import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeReply, encodeReply, encodeReplyHead, encodeReplyTail, encodeRequest, HookProtocolError,
  HookRequestParser, MAX_HOOK_REQUEST_BYTES, parseDeclarePx, withRecordSeparator, type HookParseEvent, type HookRecord, type HookRequest,
} from '../src/protocol/hook-records.js';
import { outcomeRecords } from '../src/daemon/hook-session.js';
import { encodeBytes } from '../src/env/bytes.js';
import type { ExportOutcome } from '../src/engine/types.js';

function parseAll(bytes: Buffer, cuts: number[] = []): HookParseEvent[] {
  const p = new HookRequestParser();
  const out: HookParseEvent[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...p.push(bytes.subarray(prev, c)));
    prev = c;
  }
  return out;
}

function requests(events: HookParseEvent[]): HookRequest[] {
  return events.flatMap((e) => (e.type === 'request' ? [e.request] : []));
}

const sample = encodeRequest({ id: '7', shell: 'bash', flags: 'c', cwd: '/home/u/proj' }, [
  ['PATH', '/usr/bin:/bin'],
  ['EMPTY', ''],
  ['MULTI', 'line one\nline two\n'],
  ['ENVD_DIR', '/home/u/proj'],
]);

describe('hook request parser', () => {
  it('reads a request: header first, then the environment', () => {
    const ev = parseAll(sample);
    expect(ev.map((e) => e.type)).toEqual(['header', 'request']);
    const [req] = requests(ev);
    expect(req?.header).toEqual({ version: 1, id: '7', shell: 'bash', flags: 'c', cwd: '/home/u/proj' });
    expect({ ...req?.env }).toEqual({ PATH: '/usr/bin:/bin', EMPTY: '', MULTI: 'line one\nline two\n', ENVD_DIR: '/home/u/proj' });
  });

  it('gives the same result however the bytes are split (every split point, and byte by byte)', () => {
    const whole = requests(parseAll(sample));
    for (let i = 0; i <= sample.length; i++) {
      expect(requests(parseAll(sample, [i]))).toEqual(whole);
    }
    const p = new HookRequestParser();
    const ev: HookParseEvent[] = [];
    for (const b of sample) ev.push(...p.push(Buffer.from([b])));
    expect(requests(ev)).toEqual(whole);
  });

  it('reads several requests on one stream, in one chunk or many', () => {
    const second = encodeRequest({ id: '8', shell: 'zsh', cwd: '/' }, [['A', '1']]);
    const both = Buffer.concat([sample, second, sample]);
    const ids = requests(parseAll(both)).map((r) => r.header.id);
    expect(ids).toEqual(['7', '8', '7']);
    expect(requests(parseAll(both, [3, sample.length + 5, sample.length + second.length + 1])).map((r) => r.header.id)).toEqual(['7', '8', '7']);
  });

  it('announces the header before the environment has arrived', () => {
    const headerEnd = sample.indexOf(Buffer.from('/home/u/proj\0')) + '/home/u/proj\0'.length;
    const p = new HookRequestParser();
    expect(p.push(sample.subarray(0, headerEnd)).map((e) => e.type)).toEqual(['header']);
    expect(p.push(sample.subarray(headerEnd)).map((e) => e.type)).toEqual(['request']);
  });

  it('refuses garbage at its first wrong byte, without waiting for a NUL', () => {
    expect(() => new HookRequestParser().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(HookProtocolError);
    expect(() => new HookRequestParser().push(Buffer.from('ENVD-HOOX'))).toThrow(HookProtocolError);
    expect(() => new HookRequestParser().push(Buffer.from('{"type":"hello"}\n'))).toThrow(HookProtocolError);
    // A prefix of the magic is fine so far.
    expect(new HookRequestParser().push(Buffer.from('ENVD-H'))).toEqual([]);
  });

  it('refuses malformed header fields', () => {
    const bad = (h: Parameters<typeof encodeRequest>[0]): void => {
      expect(() => parseAll(encodeRequest(h, []))).toThrow(HookProtocolError);
    };
    bad({ version: 'x', id: '1', shell: 'bash', cwd: '/' });
    bad({ id: '', shell: 'bash', cwd: '/' });
    bad({ id: 'a b', shell: 'bash', cwd: '/' });
    bad({ id: 'x'.repeat(65), shell: 'bash', cwd: '/' });
    bad({ id: '1', shell: 'powershell', cwd: '/' });
    bad({ id: '1', shell: 'bash', flags: 'c!', cwd: '/' });
    bad({ id: '1', shell: 'bash', cwd: 'relative/dir' });
    bad({ id: '1', shell: 'bash', cwd: '' });
  });

  it('stops at a version it does not speak, with the id to answer', () => {
    const ev = parseAll(Buffer.concat([encodeRequest({ version: 2, id: '42', shell: 'bash', cwd: '/' }, [['A', 'b']]), Buffer.from('anything at all')]));
    expect(ev).toEqual([{ type: 'unsupported', id: '42', version: '2' }]);
  });

  it('caps the size of a request', () => {
    const p = new HookRequestParser(1000);
    const big = encodeRequest({ id: '1', shell: 'bash', cwd: '/' }, [['BIG', 'x'.repeat(2000)]]);
    expect(() => p.push(big)).toThrow(/over 1000 bytes/);
    // Also when the bytes come without a NUL (no buffering without bound).
    const q = new HookRequestParser(1000);
    q.push(encodeRequest({ id: '1', shell: 'bash', cwd: '/' }, []).subarray(0, 20));
    expect(() => { for (let i = 0; i < 10; i++) q.push(Buffer.alloc(200, 0x41)); }).toThrow(HookProtocolError);
    expect(MAX_HOOK_REQUEST_BYTES).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  });

  it('keeps values that are not UTF-8 exactly, as byte strings (never mangled)', () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
    const [req] = requests(parseAll(encodeRequest({ id: '1', shell: 'fish', cwd: '/' }, [['OK', 'fine'], ['RAW', latin1], ['BOM', '\ufeffx']])));
    expect({ ...req?.env }).toEqual({ OK: 'fine', RAW: 'caf\udce9', BOM: '\ufeffx' });
    expect(encodeBytes(req?.env.RAW ?? '')).toEqual(latin1);
  });

  it('a directory whose name is not UTF-8 keeps its bytes (the service refuses it, naming it)', () => {
    const [req] = requests(parseAll(encodeRequest({ id: '1', shell: 'bash', cwd: Buffer.from([0x2f, 0xff]) }, [])));
    expect(req?.header.cwd).toBe('/\udcff');
  });

  it('accepts a directory deeper than PATH_MAX (its env file above is still found)', () => {
    const deep = '/d'.repeat(3000);
    const [req] = requests(parseAll(encodeRequest({ id: '1', shell: 'zsh', cwd: deep }, [])));
    expect(req?.header.cwd).toBe(deep);
  });

  it('skips names no shell could have exported', () => {
    const [req] = requests(parseAll(encodeRequest({ id: '1', shell: 'bash', cwd: '/' }, [['1BAD', 'x'], ['a-b', 'y'], ['GOOD', 'z']])));
    expect({ ...req?.env }).toEqual({ GOOD: 'z' });
  });

  it('round-trips random environments split at random points', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
    const value = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((s) => !s.includes('\0'));
    fc.assert(fc.property(fc.dictionary(name, value, { maxKeys: 20 }), fc.array(fc.nat(), { maxLength: 8 }), (env, rawCuts) => {
      const bytes = encodeRequest({ id: '3', shell: 'zsh', cwd: '/x' }, Object.entries(env));
      const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
      const [req] = requests(parseAll(bytes, cuts));
      expect({ ...req?.env }).toEqual(env);
    }), { numRuns: 300 });
  });
});

describe('hook replies', () => {
  const records: HookRecord[] = [
    { t: 'm', text: 'envd: loading ~/proj/.envrc' },
    { t: 'u', name: 'GONE' },
    { t: 'x', name: 'PATH', value: '/p/bin:/usr/bin' },
    { t: 'x', name: 'EMPTY', value: '' },
    { t: 'x', name: 'NASTY', value: "a'b\"c$(rm -rf ~)\\\n\u001b[31m%self -x\u00e9" },
    { t: 'L', text: 'envd: unloading' },
    { t: 'l', name: 'PATH', now: '/p/bin:/usr/bin', then: '/usr/bin' },
    { t: 'l', name: 'NEW', now: '', then: null },
    { t: 'l', name: 'GONE', now: null, then: '=starts with =' },
    { t: 'l', name: 'DIRENV_DIR', now: null, then: undefined },
    { t: 'k', markers: ['.envrc', '.env'] },
    { t: 'g', generation: 1795505446800 },
  ];

  it('leave plan records: a value is `=VALUE`, not exported `-`, left as it is empty', () => {
    const fields = encodeReply('9', records.filter((r) => r.t === 'l')).toString('latin1').split('\0');
    expect(fields.slice(3, 19)).toEqual(['l', 'PATH', '=/p/bin:/usr/bin', '=/usr/bin', 'l', 'NEW', '=', '-', 'l', 'GONE', '-', '==starts with =', 'l', 'DIRENV_DIR', '-', '']);
    expect(decodeReply(Buffer.from('ENVD-HOOK\x001\x009\x00l\x00A\x00x\x00-\x00z\x009\x00', 'latin1'), '9').status).toBe('invalid');
    expect(decodeReply(Buffer.from('ENVD-HOOK\x001\x009\x00l\x00A B\x00-\x00-\x00z\x009\x00', 'latin1'), '9').status).toBe('invalid');
  });

  it('encodes `ENVD-HOOK 1 ID`, the records and `z ID`; the acknowledgement and the rest concatenate to the same', () => {
    const full = encodeReply('12', records);
    expect(full.subarray(0, 17).toString()).toBe('ENVD-HOOK\u00001\u000012\u0000m\u0000');
    expect(full.toString().endsWith('z\u000012\u0000')).toBe(true);
    expect(Buffer.concat([encodeReplyHead('12'), encodeReplyTail('12', records)])).toEqual(full);
    const d = decodeReply(full, '12');
    expect(d).toEqual({ status: 'complete', records, bytes: full.length });
  });

  it('an answer cut at any byte is never complete (nothing would be applied)', () => {
    const full = Buffer.concat([encodeReplyHead('12', [{ t: 'w', ms: 200 }]), encodeReplyTail('12', [...records, { t: 'p' }])]);
    for (let i = 0; i < full.length; i++) {
      const d = decodeReply(full.subarray(0, i), '12');
      expect(d.status, `cut at ${i}`).not.toBe('complete');
    }
    expect(decodeReply(full, '12').status).toBe('complete');
  });

  it('an answer to another request, or with an unknown record, is not applied', () => {
    expect(decodeReply(encodeReply('11', records), '12').status).toBe('invalid');
    const odd = Buffer.concat([encodeReplyHead('12'), Buffer.from('q\0zz\0z\u000012\0')]);
    expect(decodeReply(odd, '12').status).toBe('invalid');
  });

  it('`z ID` inside a value is not the end of the answer', () => {
    const tricky = encodeReply('5', [{ t: 'x', name: 'z', value: '5' }, { t: 'x', name: 'A', value: 'z' }, { t: 'm', text: '5' }]);
    const d = decodeReply(tricky, '5');
    expect(d.status).toBe('complete');
    if (d.status === 'complete') expect(d.records).toHaveLength(3);
    // Cut right after the `x z 5` record: looks like `…\0z\05\0` but is not the end.
    const cut = tricky.indexOf(Buffer.from('x\0z\x005\0')) + 'x\0z\x005\0'.length;
    expect(decodeReply(tricky.subarray(0, cut), '5').status).toBe('incomplete');
  });

  it('refuses to encode a field with NUL', () => {
    expect(() => encodeReply('1', [{ t: 'm', text: 'a\0b' }])).toThrow(HookProtocolError);
  });
});

describe('outcome → records', () => {
  const outcome = (o: Partial<ExportOutcome>): ExportOutcome => ({
    kind: 'loaded', change: { set: {}, unset: [] }, messages: [], file: '/p/.envrc', ...o,
  });

  it('exports, unsets and prints; `p` when still loading', () => {
    const r = outcomeRecords(outcome({ kind: 'pending', messages: ['envd: loading'], change: { set: { B: '2', A: '1' }, unset: ['C'] } }), 'bash');
    expect(r).toEqual([
      { t: 'm', text: 'envd: loading' },
      { t: 'x', name: 'A', value: '1' },
      { t: 'x', name: 'B', value: '2' },
      { t: 'u', name: 'C' },
      { t: 'p' },
    ]);
  });

  it('refuses what the shell would not hold exactly, with a warning, as `envd export` does', () => {
    const r = outcomeRecords(outcome({
      change: { set: { PWD: '/x', 'BAD-NAME': 'v', RANDOM: '1', OK: 'y', HUGE: 'x'.repeat(200 * 1024), SUR: 'a\ud800b' }, unset: ['SHLVL'] },
    }), 'bash');
    expect(r.filter((x) => x.t === 'x')).toEqual([{ t: 'x', name: 'OK', value: 'y' }]);
    expect(r.filter((x) => x.t === 'u')).toEqual([]);
    const warnings = r.flatMap((x) => (x.t === 'm' ? [x.text] : []));
    for (const n of ['PWD', 'BAD-NAME', 'RANDOM', 'HUGE', 'SUR', 'SHLVL']) {
      expect(warnings.some((w) => w.includes(n)), n).toBe(true);
    }
  });

  it('sets values that are not UTF-8 exactly, and the reply carries their bytes', () => {
    const r = outcomeRecords(outcome({ change: { set: { RAW: 'caf\udce9', OK: '1' }, unset: ['RAW2'] } }), 'zsh');
    expect(r.filter((x) => x.t === 'x' || x.t === 'u')).toEqual([{ t: 'x', name: 'OK', value: '1' }, { t: 'x', name: 'RAW', value: 'caf\udce9' }, { t: 'u', name: 'RAW2' }]);
    const wire = encodeReply('1', r);
    expect(wire.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0]))).toBe(true);
    const back = decodeReply(wire, '1');
    expect(back.status === 'complete' ? back.records : []).toEqual(r);
  });

  it('applies nothing when one of envd\'s own state variables cannot be set', () => {
    const r = outcomeRecords(outcome({ change: { set: { A: '1', DIRENV_DIFF: 'x'.repeat(200 * 1024) }, unset: [] } }), 'bash');
    expect(r.filter((x) => x.t === 'x' || x.t === 'u')).toEqual([]);
    expect(r.some((x) => x.t === 'm' && x.text.includes('nothing applied'))).toBe(true);
  });

  it('messages keep their colour only for a hook that asked for it (flag c)', () => {
    const o = outcome({ kind: 'blocked', messages: ['envd: loading', '\u001b[31menvd: error x is blocked\u001b[0m'], change: { set: {}, unset: [] } });
    const texts = (colour: boolean): string[] => outcomeRecords(o, 'bash', colour).flatMap((r) => (r.t === 'm' ? [r.text] : []));
    expect(texts(true)).toEqual(['envd: loading', '\u001b[31menvd: error x is blocked\u001b[0m']);
    expect(texts(false)).toEqual(['envd: loading', 'envd: error x is blocked']);
  });

  it('fish: PATH empty entries as fish will hold them, with a warning', () => {
    const r = outcomeRecords(outcome({ change: { set: { PATH: '/a::/b' }, unset: [] } }), 'fish');
    expect(r).toContainEqual({ t: 'x', name: 'PATH', value: '/a:.:/b' });
  });
});

describe("bash's environment file (`declare -px`)", () => {
  const file = (text: string | Buffer): Buffer => (typeof text === 'string' ? Buffer.from(text, 'utf8') : text);

  it('reads both quoting styles, skips unset and array variables, stops at its own end line', () => {
    const text = [
      'declare -x A="plain"',
      'declare -ax ARR=([0]="1" [1]="2")',
      'declare -x B="q\\"uo\\$te\\`s\\\\ and \\$(x)"',
      "declare -x C=$'new\\nline'",
      "declare -x D=$'esc\\E\\001\\177 \\\\ \\' end'",
      'declare -x E="é😀"',
      'declare -x F=""',
      'declare -ix INTV="5"',
      'declare -x OLDPWD',
      'export P="posix mode"',
      '#envd 9',
      'declare -x STALE="from a longer old file"',
      '',
    ].join('\n');
    const { env } = parseDeclarePx(file(text), '9');
    expect({ ...env }).toEqual({
      A: 'plain', B: 'q"uo$te`s\\ and $(x)', C: 'new\nline', D: "esc\u001b\u0001\u007f \\ ' end", E: 'é😀', F: '', INTV: '5', P: 'posix mode',
    });
  });

  it('keeps values that are not UTF-8 exactly, as byte strings', () => {
    const { env } = parseDeclarePx(file("declare -x H=$'\\377\\376 raw'\ndeclare -x OK=\"1\"\n#envd 1\n"), '1');
    expect({ ...env }).toEqual({ H: '\udcff\udcfe raw', OK: '1' });
  });

  it('refuses a file that is cut off, from another request, or not declare output', () => {
    expect(() => parseDeclarePx(file('declare -x A="1"\n'), '1')).toThrow(/cut off/);
    expect(() => parseDeclarePx(file('declare -x A="1"\n#envd 2\n'), '1')).toThrow(/another request/);
    expect(() => parseDeclarePx(file('rm -rf /\n#envd 1\n'), '1')).toThrow(HookProtocolError);
    expect(() => parseDeclarePx(file('declare -x A="un"quoted"\n#envd 1\n'), '1')).toThrow(HookProtocolError);
    expect(() => parseDeclarePx(file("declare -x A=$'\\q'\n#envd 1\n"), '1')).toThrow(HookProtocolError);
  });
});

describe('reply with RS-ended fields (request flag s)', () => {
  it('ends every field with RS instead of NUL, the bytes otherwise the same', () => {
    const reply = encodeReply('7', [{ t: 'x', name: 'A', value: 'two\nlines \u00ff' }, { t: 'm', text: 'hi' }]);
    const rs = withRecordSeparator(reply);
    expect(rs.includes(0)).toBe(false);
    expect(rs.length).toBe(reply.length);
    expect(Buffer.from(rs.map((b) => (b === 0x1e ? 0 : b))).equals(reply)).toBe(true);
    // The original is left as it was (a kept reply is sent again).
    expect(reply.includes(0x1e)).toBe(false);
    expect(decodeReply(reply, '7').status).toBe('complete');
  });

  it('leaves a reply whose field holds an RS as it is (NUL-ended)', () => {
    const reply = encodeReply('7', [{ t: 'x', name: 'A', value: 'a\u001eb' }]);
    expect(withRecordSeparator(reply)).toBe(reply);
  });
});
