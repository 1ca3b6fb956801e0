/**
 * decide(): what one request does, and why, from the facts alone. The end-to-end
 * behaviour of each branch is in engine.test.ts and trust-*.test.ts; here every reason is
 * reached directly, and the costly facts (a stat or a read each) are asked only when the
 * decision needs them.
 */
import { describe, expect, it } from 'vitest';
import { decide, type Facts } from '../src/engine/decide.js';

/** A shell that loaded this file, nothing changed, still approved: the idle prompt. */
function facts(over: Partial<Facts> = {}): Facts {
  return {
    found: true,
    shellHasState: true,
    unreadable: false,
    trust: 'allowed',
    sameFile: true,
    shellStatus: 'loaded',
    stateUnchanged: () => true,
    sourcedChanged: () => null,
    fresh: false,
    cached: () => false,
    ...over,
  };
}

/** A fact that fails the test if the decision asks for it. */
function never<T>(what: string): () => T {
  return () => { throw new Error(`asked for ${what}`); };
}

describe('decide', () => {
  it.each([
    ['no file, nothing loaded', { found: false, shellHasState: false }, { action: 'nothing', reason: 'no-project' }],
    ['no file, something loaded', { found: false }, { action: 'unload', reason: 'left-project' }],
    ['unreadable or unsafe file', { unreadable: true }, { action: 'refuse', reason: 'unreadable' }],
    ['loaded, unchanged, approved', {}, { action: 'nothing', reason: 'unchanged' }],
    ['failed, unchanged, approved', { shellStatus: 'failed' }, { action: 'nothing', reason: 'unchanged' }],
    ['loaded, unchanged, whitelisted', { trust: 'whitelisted' }, { action: 'nothing', reason: 'unchanged' }],
    ['blocked, unchanged, still not approved', { shellStatus: 'blocked', trust: 'unknown' }, { action: 'nothing', reason: 'still-blocked' }],
    ['blocked, unchanged, now approved', { shellStatus: 'blocked', cached: () => true }, { action: 'use-cache', reason: 'cached' }],
    ['loaded, unchanged, now denied', { trust: 'denied' }, { action: 'refuse', reason: 'denied' }],
    ['new content', { sameFile: false, trust: 'unknown' }, { action: 'refuse', reason: 'not-approved' }],
    ['allowlist unreadable', { sameFile: false, trust: 'store-error' }, { action: 'refuse', reason: 'store-error' }],
    ['a dependency changed, cached', { stateUnchanged: () => false, cached: () => true }, { action: 'use-cache', reason: 'cached' }],
    ['a dependency changed, not cached', { stateUnchanged: () => false }, { action: 'evaluate', reason: 'not-cached' }],
    ['entering another project', { sameFile: false, fresh: true, cached: () => true }, { action: 'evaluate', reason: 'entering' }],
    ['entering where the file failed', { shellStatus: 'failed', stateUnchanged: () => false, fresh: true }, { action: 'evaluate', reason: 'entering' }],
    ['the flag without entering (same file loaded)', { stateUnchanged: () => false, fresh: true, cached: () => true }, { action: 'use-cache', reason: 'cached' }],
  ] as [string, Partial<Facts>, object][])('%s', (_name, over, want) => {
    expect(decide(facts(over))).toEqual(want);
  });

  it('names the sourced file that changed since the approval', () => {
    expect(decide(facts({ sameFile: false, sourcedChanged: () => '/p/lib.sh' }))).toEqual({ action: 'refuse', reason: 'sourced-changed', changed: '/p/lib.sh' });
  });

  it('the idle prompt checks the state and nothing else', () => {
    expect(decide(facts({ sourcedChanged: never('sourced files'), cached: never('the cache') }))).toEqual({ action: 'nothing', reason: 'unchanged' });
  });

  it('entering another project never checks the old state, and a refusal never looks at the cache', () => {
    expect(decide(facts({ sameFile: false, fresh: true, stateUnchanged: never('the old state'), cached: never('the cache') }))).toEqual({ action: 'evaluate', reason: 'entering' });
    expect(decide(facts({ sameFile: false, trust: 'unknown', stateUnchanged: never('the old state'), sourcedChanged: never('sourced files'), cached: never('the cache') })))
      .toEqual({ action: 'refuse', reason: 'not-approved' });
  });

  it('outside every project, nothing about a file is asked', () => {
    const nothingAsked = { stateUnchanged: never<boolean>('the state'), sourcedChanged: never<string | null>('sourced files'), cached: never<boolean>('the cache') };
    expect(decide(facts({ found: false, shellHasState: false, ...nothingAsked }))).toEqual({ action: 'nothing', reason: 'no-project' });
    expect(decide(facts({ unreadable: true, ...nothingAsked }))).toEqual({ action: 'refuse', reason: 'unreadable' });
  });
});
