import { describe, expect, it } from 'vitest';
import { toStorableJson, toStorableText } from '../../../src/domain/storable-text.ts';
import { DEFAULT_PAYLOAD_LIMITS, parseOutboundPayload } from '../../../src/domain/message.ts';

describe('toStorableText', () => {
  it.each([
    ['plain text', 'hello', 'hello', 0],
    ['NUL', 'hi \u0000 there', 'hi \uFFFD there', 1],
    ['two NULs', '\u0000\u0000', '\uFFFD\uFFFD', 2],
    ['a lone low surrogate', 'a\uDC00b', 'a\uFFFDb', 1],
    ['a lone high surrogate at the end', 'ab\uD83D', 'ab\uFFFD', 1],
    ['a high surrogate before another high surrogate', '\uD83D\uD83D\uDE00', '\uFFFD\uD83D\uDE00', 1],
    ['a well-formed pair (emoji)', 'ok \uD83D\uDE00', 'ok \uD83D\uDE00', 0],
    ['a pair reversed', '\uDE00\uD83D', '\uFFFD\uFFFD', 2],
  ])('%s', (_name, input, text, replaced) => {
    expect(toStorableText(input)).toEqual({ text, replaced });
  });
});

describe('toStorableJson', () => {
  const limits = { maxBytes: 100, maxDepth: 4 };

  it('replaces NUL and lone surrogates in strings and keys, and counts them', () => {
    const r = toStorableJson({ 'k\u0000': ['a\uDC00', { n: 1, s: 'x' }] }, limits);
    expect(r).toMatchObject({ ok: true, value: { 'k\uFFFD': ['a\uFFFD', { n: 1, s: 'x' }] }, replaced: 2 });
  });

  it('refuses nesting deeper than the limit', () => {
    expect(toStorableJson({ a: { b: { c: { d: {} } } } }, limits)).toMatchObject({ ok: false, problem: 'too_deep' });
    expect(toStorableJson({ a: { b: { c: {} } } }, limits)).toMatchObject({ ok: true });
  });

  it('measures 5,000 levels without overflowing the stack', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`) as unknown;
    expect(toStorableJson(deep, limits)).toMatchObject({ ok: false, problem: 'too_deep', reason: 'is nested deeper than 4 levels' });
    const deepArrays = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(toStorableJson(deepArrays, limits)).toMatchObject({ ok: false, problem: 'too_deep' });
  });

  it('refuses more bytes of JSON than the limit, counting UTF-8 bytes', () => {
    // 50 two-byte characters and {"s":""}: 108 bytes, though only 58 characters.
    expect(toStorableJson({ s: 'é'.repeat(50) }, limits)).toMatchObject({ ok: false, problem: 'too_large', reason: 'is 108 bytes of JSON; at most 100 are accepted' });
    expect(toStorableJson({ s: 'e'.repeat(80) }, limits)).toMatchObject({ ok: true });
  });
});

describe('parseOutboundPayload: what Postgres cannot store', () => {
  const parse = (payload: unknown) => parseOutboundPayload(typeof payload === 'string' ? payload : JSON.stringify(payload), () => 'generated');
  const base = { to: '+14155550101', text: 'hello' };

  const cases: { name: string; payload: unknown; expect: Record<string, unknown> }[] = [
    { name: 'NUL in text is replaced', payload: { ...base, text: 'a\u0000b' }, expect: { ok: true, replaced: 1, message: expect.objectContaining({ text: 'a\uFFFDb' }) } },
    { name: 'a lone surrogate in text is replaced', payload: '{"to":"+14155550101","text":"a\\udc00b"}', expect: { ok: true, replaced: 1, message: expect.objectContaining({ text: 'a\uFFFDb' }) } },
    { name: 'NUL in id is refused', payload: { ...base, id: 'x\u0000' }, expect: { ok: false, code: 'invalid_id' } },
    { name: 'a lone surrogate in id is refused', payload: '{"id":"x\\ud800","to":"+14155550101","text":"hi"}', expect: { ok: false, code: 'invalid_id' } },
    { name: 'NUL in metadata is replaced', payload: { ...base, metadata: { k: 'v\u0000' } }, expect: { ok: true, replaced: 1, message: expect.objectContaining({ metadata: { k: 'v\uFFFD' } }) } },
    { name: 'a lone surrogate in a metadata key is replaced', payload: '{"to":"+14155550101","text":"hi","metadata":{"\\udc00":1}}', expect: { ok: true, replaced: 1, message: expect.objectContaining({ metadata: { '\uFFFD': 1 } }) } },
    { name: 'metadata 5,000 deep is refused', payload: `{"to":"+14155550101","text":"hi","metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, expect: { ok: false, code: 'metadata_too_deep', reason: '"metadata" is nested deeper than 32 levels' } },
    { name: 'metadata of 5 MB is refused', payload: { ...base, metadata: { blob: 'x'.repeat(5_000_000) } }, expect: { ok: false, code: 'metadata_too_large' } },
    { name: 'conversation tags 5,000 deep are refused', payload: `{"to":"+14155550101","text":"hi","conversation":{"tags":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`, expect: { ok: false, code: 'invalid_conversation' } },
    { name: 'NUL in an expected reply is replaced', payload: { ...base, replies: { 'Y\u0000': { reply: 'ok\u0000' } } }, expect: { ok: true, replaced: 2, message: expect.objectContaining({ replies: { 'Y\uFFFD': { reply: 'ok\uFFFD', webhook: undefined } } }) } },
    { name: 'clean payloads replace nothing', payload: base, expect: { ok: true, replaced: 0 } },
  ];
  for (const c of cases) it(c.name, () => expect(parse(c.payload)).toMatchObject(c.expect));

  it('the limits are the caller\'s to set', () => {
    const r = parseOutboundPayload(JSON.stringify({ ...base, metadata: { a: { b: 1 } } }), () => 'g', { metadata: { ...DEFAULT_PAYLOAD_LIMITS.metadata, maxDepth: 1 } });
    expect(r).toMatchObject({ ok: false, code: 'metadata_too_deep' });
  });
});
