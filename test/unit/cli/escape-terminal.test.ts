import { describe, expect, it } from 'vitest';
import { escapeTerminal } from '../../../src/cli/common.ts';

/** Anything a terminal acts on: C0 but newline, DEL, C1, bidi overrides and isolates. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE_ID = '\u001b[2J\u001b]0;owned\u0007X1';

describe('escapeTerminal', () => {
  it.each<[string, string, boolean, string]>([
    ['ESC sequences', '\u001b[31mred\u001b[0m', false, '\\u001b[31mred\\u001b[0m'],
    ['a one-byte CSI and DEL', 'a\u009b2Jb\u007f', false, 'a\\u009b2Jb\\u007f'],
    ['a right-to-left override', 'abc\u202edcba', false, 'abc\\u202edcba'],
    ['newlines in a line', 'one\ntwo', false, 'one\\u000atwo'],
    ['newlines kept in a block', 'one\ntwo\u0007', true, 'one\ntwo\\u0007'],
    ['plain text, accents and emoji', 'Caf\u00e9 \ud83d\udce6 +44', false, 'Caf\u00e9 \ud83d\udce6 +44'],
  ])('%s', (_what, input, keepNewlines, expected) => {
    expect(escapeTerminal(input, keepNewlines)).toBe(expected);
  });

  it('keeps JSON valid and equal once parsed', () => {
    const value = { id: HOSTILE_ID, text: 'hi \u009b2J \u202e' };
    const printed = escapeTerminal(JSON.stringify(value, null, 2), true);
    expect(printed).not.toMatch(UNSAFE);
    expect(JSON.parse(printed)).toEqual(value);
  });
});

